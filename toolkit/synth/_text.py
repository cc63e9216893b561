"""Short synthetic Chinese comments for ballots (comments 意见和建议, rectify_other)."""

from __future__ import annotations

__all__ = ["COMMENTS", "RECTIFY_OTHER"]

#: Comments by issue and sentiment ("general" applies to every issue).
COMMENTS: dict[tuple[str, str], tuple[str, ...]] = {
    ("general", "positive"): (
        "工作认真负责，辛苦了",
        "希望继续保持",
        "居委会干部态度很好",
        "办事及时，值得表扬",
        "满意，谢谢大家",
        "整体不错，希望多听取居民意见",
    ),
    ("general", "negative"): (
        "反映的问题迟迟没有答复",
        "希望公开费用明细",
        "办事效率有待提高",
        "希望多听听老年人的意见",
        "通知太晚，很多居民不知道",
        "整改要落实，不要只走形式",
    ),
    ("elevator", "positive"): (
        "电梯装好了，老人上下楼方便多了",
        "施工队文明施工，值得表扬",
        "感谢居委会协调，终于装上电梯",
    ),
    ("elevator", "negative"): (
        "施工噪音太大，影响休息",
        "低楼层采光受影响，补偿不合理",
        "费用分摊不公平",
        "工期一拖再拖",
        "电梯后期维保谁负责要说清楚",
    ),
    ("property", "positive"): ("物业维修很及时", "保洁阿姨很辛苦，楼道干净"),
    ("property", "negative"): (
        "物业保洁不到位，楼道很脏",
        "门禁坏了很久没人修",
        "物业费上涨但服务没有提高",
        "保安巡逻不到位",
    ),
    ("greening", "positive"): ("绿化改造后环境好多了", "种的花草很漂亮"),
    ("greening", "negative"): ("树木修剪不及时，挡住阳光", "绿化带被占用停车"),
    ("parking", "positive"): ("非机动车棚建好了，充电方便安全",),
    ("parking", "negative"): ("电瓶车乱停乱放，有安全隐患", "车位太少，外来车辆太多"),
    ("waste", "positive"): ("垃圾分类做得好，小区干净了",),
    ("waste", "negative"): ("垃圾箱房离我家太近，有异味", "定时投放时间不方便上班族"),
}

#: Texts for ``rectify_other`` (其他需要整改的问题).
RECTIFY_OTHER: tuple[str, ...] = (
    "楼道灯经常不亮",
    "信箱损坏",
    "外墙渗水",
    "消防通道被占用",
    "楼下商铺油烟扰民",
)
