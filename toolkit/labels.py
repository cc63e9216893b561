"""All the bilingual text of the package in one place, and the one way to choose how answers are shown.

Every table maps a key (a code, a column, a word) to ``{"zh": ..., "en": ...}``. Modules that show
text take it from here; only the instruments (``surveys/*.yaml``) carry translations of their own.
``{name}`` fields in a text are filled in by the caller (``text.format(**values)``).

Answers are shown as their stored codes (``satisfied``) or as labels in Chinese or English
(满意 / Satisfied). :data:`LABELS` names the three choices; :meth:`toolkit.store.Store.responses`
(``labels=``) and :func:`toolkit.exports.export_responses` (``labels=``) take the same argument.

>>> check_labels("zh")
'zh'
>>> SUBJECTS["wuye"]["en"]
'Property management'
>>> word(REPORT_NOTES, "members", "en", members=30)
' (members: 30)'
"""

from __future__ import annotations

from typing import Any, Literal

from toolkit._checks import check_option

__all__ = [
    "CASE_STAGES",
    "CASE_VENUES",
    "CASE_WORDS",
    "CHANNELS",
    "CHART_WORDS",
    "COORDINATION_WORDS",
    "GENDERS",
    "HEARING_COLUMNS",
    "HEARING_WORDS",
    "INDICATOR",
    "IPA_SOURCES",
    "IPA_WORDS",
    "ITEMS",
    "LABELS",
    "LEVELS",
    "MEASURES",
    "META_COLUMN_LABELS",
    "QUADRANTS",
    "REPEAT_WORDS",
    "REPORT_HEADINGS",
    "REPORT_NOTES",
    "REPORT_WORDS",
    "ROLES",
    "RULE_TEXTS",
    "SUBJECTS",
    "TABLES",
    "TABLET_WORDS",
    "THEMES_COLUMNS",
    "THEMES_TEXT",
    "VARIABLES",
    "VOICE_COLUMNS",
    "VOICE_TEXT",
    "Labels",
    "by_language",
    "check_labels",
    "label_language",
    "word",
]

#: How answers are shown: stored codes, or labels in Chinese or English.
Labels = Literal["codes", "zh", "en"]
LABELS: tuple[Labels, ...] = ("codes", "zh", "en")


#: Response levels of the usual scales (the codes of ``surveys/*.yaml``).
LEVELS: dict[str, dict[str, str]] = {
    "very_satisfied": {"zh": "很满意", "en": "Very satisfied"},
    "satisfied": {"zh": "满意", "en": "Satisfied"},
    "basically_satisfied": {"zh": "基本满意", "en": "Basically satisfied"},
    "neutral": {"zh": "一般", "en": "Neutral"},
    "dissatisfied": {"zh": "不满意", "en": "Dissatisfied"},
    "very_dissatisfied": {"zh": "很不满意", "en": "Very dissatisfied"},
    "dont_know": {"zh": "不了解", "en": "Don't know"},
    "strongly_agree": {"zh": "非常同意", "en": "Strongly agree"},
    "agree": {"zh": "同意", "en": "Agree"},
    "neither": {"zh": "中立", "en": "Neither agree nor disagree"},
    "disagree": {"zh": "不同意", "en": "Disagree"},
    "strongly_disagree": {"zh": "非常不同意", "en": "Strongly disagree"},
}


#: Items of the evaluation ballot (``surveys/evaluation.yaml``).
ITEMS: dict[str, dict[str, str]] = {
    "attitude": {"zh": "工作态度", "en": "Attitude"},
    "efficiency": {"zh": "办事效率", "en": "Efficiency and timeliness"},
    "transparency": {"zh": "公开透明", "en": "Openness and transparency"},
    "responsiveness": {"zh": "听取和回应意见", "en": "Listening and responding to views"},
    "integrity": {"zh": "公道廉洁", "en": "Fairness and integrity"},
    "results": {"zh": "工作成效", "en": "Results"},
    "overall": {"zh": "总体评价", "en": "Overall"},
    "build_quality": {"zh": "施工质量", "en": "Build quality"},
    "schedule": {"zh": "工期进度", "en": "Schedule"},
    "noise_dust": {"zh": "噪音与扬尘控制", "en": "Control of noise and dust"},
    "daylight": {"zh": "采光影响的处理", "en": "Handling of lost daylight"},
    "cost_sharing": {"zh": "费用分摊公平", "en": "Fair sharing of costs"},
    "maintenance": {"zh": "后期维护安排", "en": "Maintenance arrangements"},
}


#: Rater-profile and roster columns, as axis titles.
VARIABLES: dict[str, dict[str, str]] = {
    "age_band": {"zh": "年龄段", "en": "Age band"},
    "gender": {"zh": "性别", "en": "Gender"},
    "role": {"zh": "身份", "en": "Role"},
    "building": {"zh": "楼号", "en": "Building"},
    "floor_band": {"zh": "楼层", "en": "Floor"},
    "tenure": {"zh": "产权", "en": "Tenure"},
    "first_time": {"zh": "首次参加", "en": "First time"},
    "community": {"zh": "居民区", "en": "Community"},
    "subject": {"zh": "评议对象", "en": "Evaluated party"},
}


#: The rates of ``satisfaction_rates``, as chart labels.
MEASURES: dict[str, dict[str, str]] = {
    "strict": {"zh": "严格满意率", "en": "Strict satisfaction rate"},
    "broad": {"zh": "满意率", "en": "Broad satisfaction rate"},
    "dissatisfied": {"zh": "不满意率", "en": "Dissatisfaction rate"},
}


#: Words of the charts; ``{name}`` fields are filled in by the caller.
CHART_WORDS: dict[str, dict[str, str]] = {
    "n": {"zh": "n={n}", "en": "n={n}"},
    "no_answers": {"zh": "无有效回答", "en": "no valid answers"},
    "likert_axis": {
        "zh": "占有效回答的百分比（不满意在左，满意在右）",
        "en": "Share of valid answers (unfavourable left, favourable right)",
    },
    "dont_know_axis": {"zh": "不了解（占全部回答）", "en": "Don't know (of all answers)"},
    "dont_know_excluded": {
        "zh": "{level}（{count} 人次）未计入百分比。",
        "en": "{level} ({count} answers) left out of the percentages.",
    },
    "basic_note": {
        "zh": "基本满意计入满意一侧：右侧总长即满意率（满意+基本满意），深色部分即严格满意率。",
        "en": "Basically satisfied counts on the favourable side: the right-hand length is the "
        "broad rate, the dark part the strict rate.",
    },
    "strict": {"zh": "严格满意率（满意）", "en": "Strict satisfaction rate (satisfied)"},
    "broad": {
        "zh": "满意率（满意+基本满意）",
        "en": "Broad satisfaction rate (satisfied + basically satisfied)",
    },
    "dissatisfied": {"zh": "不满意率", "en": "Dissatisfaction rate"},
    "rate": {"zh": "比率", "en": "Rate"},
    "with_ci": {
        "zh": "{what}及 {level} 置信区间",
        "en": "{what}, with {level} confidence interval",
    },
    "sort_note": {
        "zh": "按点估计排序；区间重叠的条目不能据此排名。",
        "en": "Sorted by point estimate; items whose intervals overlap are not ranked by it.",
    },
    "reference": {"zh": "参考线 {value}", "en": "reference {value}"},
    "turnout": {"zh": "参会率（出席/邀请）", "en": "Turnout (attended / invited)"},
    "overall": {"zh": "总体 {value}", "en": "overall {value}"},
    "persons": {"zh": "人数", "en": "People"},
    "invited": {"zh": "邀请", "en": "invited"},
    "attended": {"zh": "出席", "en": "attended"},
    "missing": {"zh": "（缺失）", "en": "(missing)"},
}


#: Words of the meeting report's tables.
REPORT_WORDS: dict[str, dict[str, str]] = {
    "issued": {"zh": "发放", "en": "Issued"},
    "returned": {"zh": "收回", "en": "Returned"},
    "valid": {"zh": "有效", "en": "Valid"},
    "void": {"zh": "无效（作废）", "en": "Void"},
    "ballots": {"zh": "票数", "en": "Ballots"},
    "of_issued": {"zh": "占发放", "en": "Share of issued"},
    "subject": {"zh": "评议对象", "en": "Subject"},
    "item": {"zh": "评议项目", "en": "Item"},
    "n_valid": {"zh": "有效评价", "en": "Valid answers"},
    "strict": {"zh": "满意率（仅满意）", "en": "Satisfied (strict)"},
    "broad": {"zh": "满意+基本满意率", "en": "Satisfied or basically (broad)"},
    "dissatisfied": {"zh": "不满意率", "en": "Dissatisfied"},
    "dont_know": {"zh": "不了解", "en": "Don't know"},
    "verdict": {"zh": "评议结论", "en": "Verdict"},
    "rule": {"zh": "评定规则", "en": "Rule"},
    "members": {"zh": "成员数", "en": "Members"},
    "satisfied_n": {"zh": "满意", "en": "Satisfied"},
    "basically_n": {"zh": "基本满意", "en": "Basically"},
    "dissatisfied_n": {"zh": "不满意", "en": "Dissatisfied"},
    "issue": {"zh": "整改问题", "en": "Problem"},
    "raters": {"zh": "选择人数", "en": "Raters"},
    "share": {"zh": "占有效票", "en": "Share of valid ballots"},
    "rank": {"zh": "排名（低→高）", "en": "Rank (lowest first)"},
    "comment": {"zh": "意见和建议", "en": "Comment"},
    "rectify_other": {"zh": "其他整改问题", "en": "Other problem to put right"},
    "kind": {"zh": "类别", "en": "Kind"},
    "group": {"zh": "分组", "en": "Group"},
    "invited": {"zh": "应到", "en": "Invited"},
    "attended": {"zh": "实到", "en": "Attended"},
    "turnout": {"zh": "到会率", "en": "Turnout"},
    "all": {"zh": "全部", "en": "All"},
    "age_band": {"zh": "年龄段", "en": "Age band"},
    "role": {"zh": "身份", "en": "Role"},
    "gender": {"zh": "性别", "en": "Gender"},
    "walk_ins": {"zh": "现场登记（未在名单）", "en": "Walk-ins (not on the roster)"},
    "suppressed": {"zh": "<5人，不公布", "en": "<5 raters, not shown"},
    "channel": {"zh": "投票渠道", "en": "Channel"},
    "none": {"zh": "未填写", "en": "Not given"},
}


#: The decision rules, as the meeting report states them.
RULE_TEXTS: dict[str, dict[str, str]] = {
    "majority_of_members": {
        "zh": "全体成员过半数：满意票超过成员半数为“满意”，否则满意与基本满意票合计超过半数为"
        "“基本满意”，否则为“不满意”",
        "en": "Majority of all members: 满意 if satisfied votes exceed half the members, else 基本满意 "
        "if satisfied plus basically satisfied exceed half, else 不满意",
    },
    "plurality": {
        "zh": "相对多数：有效票中票数最多的等级",
        "en": "Plurality: the most frequent level among the valid answers",
    },
    "score_bands": {
        "zh": "分数段：满意100分、基本满意60分、不满意0分，平均分80分及以上为满意，"
        "60～79分为基本满意，60分以下为不满意",
        "en": "Score bands: 100 / 60 / 0 points; mean 80 or more is 满意, 60-79 基本满意, below 60 不满意",
    },
}


#: Section headings of the meeting report.
REPORT_HEADINGS: dict[str, dict[str, str]] = {
    "ballots": {"zh": "一、票数", "en": "1. Ballots"},
    "rates": {"zh": "二、满意度（95%置信区间）", "en": "2. Satisfaction rates (95% intervals)"},
    "verdict": {"zh": "三、评议结论", "en": "3. Verdict"},
    "rectify": {"zh": "四、整改清单", "en": "4. What needs to be put right"},
    "comments": {"zh": "五、意见和建议（照录）", "en": "5. Comments (as written)"},
    "turnout": {"zh": "六、参会情况", "en": "6. Participation"},
}


#: The evaluated parties (subjects) the demo and the usual meetings use.
SUBJECTS: dict[str, dict[str, str]] = {
    "juweihui": {"zh": "居委会", "en": "Residents' committee"},
    "wuye": {"zh": "物业公司", "en": "Property management"},
    "yeweihui": {"zh": "业委会", "en": "Owners' committee"},
    "contractor": {"zh": "施工单位", "en": "Contractor"},
    "park_mgmt": {"zh": "园区管理方", "en": "Park management"},
}

#: Gender codes of the rater profile and the roster.
GENDERS: dict[str, dict[str, str]] = {
    "female": {"zh": "女", "en": "Female"},
    "male": {"zh": "男", "en": "Male"},
}

#: Roles of raters and participants.
ROLES: dict[str, dict[str, str]] = {
    "resident": {"zh": "居民", "en": "Resident"},
    "building_head": {"zh": "楼组长", "en": "Building head"},
    "party_member": {"zh": "党员", "en": "Party member"},
    "owners_committee": {"zh": "业委会成员", "en": "Owners' committee"},
    "deputy": {"zh": "人大代表/政协委员", "en": "Deputy"},
}

#: The meta columns of the response tables (codebook labels).
META_COLUMN_LABELS: dict[str, dict[str, str]] = {
    "submission_id": {"zh": "选票编号（UUID）", "en": "Ballot id (UUID)"},
    "meeting_id": {"zh": "会议编号", "en": "Meeting id"},
    "community": {"zh": "居民区", "en": "Community"},
    "street": {"zh": "街道", "en": "Street"},
    "kind": {"zh": "会议类型", "en": "Meeting kind"},
    "device": {"zh": "平板编号", "en": "Tablet id"},
    "started_at": {"zh": "开始填写时间（UTC）", "en": "Started at (UTC)"},
    "submitted_at": {"zh": "提交时间（UTC）", "en": "Submitted at (UTC)"},
    "status": {"zh": "选票状态（有效/作废）", "en": "Ballot status (valid/void)"},
    "duration_seconds": {"zh": "填写用时（秒）", "en": "Time to complete (seconds)"},
}

#: The two values of a multiple-choice indicator column (0, 1).
INDICATOR: dict[str, dict[str, str]] = {
    "0": {"zh": "未选", "en": "Not selected"},
    "1": {"zh": "选中", "en": "Selected"},
}

#: How a ballot came in (``submissions.mode``, ``Store.responses(channel_column=True)``).
CHANNELS: dict[str, dict[str, str]] = {
    "tablet": {"zh": "现场平板", "en": "Tablet at the meeting"},
    "paper": {"zh": "纸质票（录入）", "en": "Paper (keyed in)"},
    "online": {"zh": "线上（手机）", "en": "Online (phone)"},
}

#: Explanations under the meeting report's headings; ``{name}`` fields are filled in.
REPORT_NOTES: dict[str, dict[str, str]] = {
    "title": {
        "zh": "会议编号 {meeting_id} · {community} · {when}",
        "en": "Meeting {meeting_id} · {community} · {when}",
    },
    "rates": {
        "zh": "满意率（仅满意）= 满意 / 有效评价；满意+基本满意率 = (满意 + 基本满意) / 有效评价；"
        "不了解和空白不计入有效评价。括号内为95%置信区间（Wilson法）。"
        "少于{min_cell}人评价的项目不公布（<5）。",
        "en": "Satisfied = 满意 / valid answers; satisfied or basically = (满意 + 基本满意) / "
        "valid answers; 不了解 and blanks are not valid answers. Brackets: 95% Wilson "
        "intervals. Items rated by fewer than {min_cell} people are not shown (<5).",
    },
    "members": {"zh": "（成员数 {members}）", "en": " (members: {members})"},
    "rule_applied": {"zh": "评定规则：", "en": "Rule applied: "},
    "rectify": {
        "zh": "上表：勾选各类整改问题的人数；下表：各评议对象满意+基本满意率最低的项目"
        "（排名接近时请看置信区间，小样本不宜按点估计排序）。",
        "en": "First table: raters ticking each problem. Second: the items of each subject "
        "with the lowest broad rates (with so few raters, read the intervals, not only the "
        "ranking).",
    },
    "comments": {
        "zh": "评议票不记名；以下按文字排序照录，不对应填写顺序。",
        "en": "Ballots are anonymous; comments are listed as written, sorted by text, not "
        "in the order handed in.",
    },
    "turnout": {
        "zh": "到会率 = 实到 / 应到（名单内），95%置信区间；不足{min_cell}人的分组不公布。"
        "现场登记（未在名单）{walk_ins}人。",
        "en": "Turnout = attended / invited (roster), 95% intervals; groups of fewer than "
        "{min_cell} people are not shown. Walk-ins not on the roster: {walk_ins}.",
    },
    "channels": {
        "zh": "按投票渠道（现场平板、纸质票、线上）：各渠道票数，及各评议对象总体评价的"
        "满意+基本满意率（95%置信区间，Wilson法；不足{min_cell}人不公布）。"
        "线上与现场的评议人可能不同，两者之差不一定是评价之差。",
        "en": "By channel (tablet at the meeting, paper, online): ballots per channel, and the "
        "broad rate of each subject's overall item (95% Wilson intervals; fewer than "
        "{min_cell} raters: not shown). Online and in-person raters may differ, so a gap "
        "is not necessarily a difference in views.",
    },
    "no_turnout": {
        "zh": "本次会议没有可公布的到会率：没有邀请名单，或各年龄组人数都不足{min_cell}人。",
        "en": "No turnout to show for this meeting: it has no invited roster, or every age "
        "group has fewer than {min_cell} people.",
    },
    "by_role": {
        "zh": "按评议人自报身份的总体评价满意+基本满意率（不足5人不公布）：",
        "en": "Overall broad rate by the raters' self-reported role (fewer than 5: not shown):",
    },
}


def check_labels(labels: str, *, name: str = "labels") -> Labels:
    """``labels`` if it is one of :data:`LABELS`, else a :class:`~toolkit.errors.ParameterError`.

    >>> check_labels("fr")
    Traceback (most recent call last):
    ...
    toolkit.errors.ParameterError: `labels` must be one of 'codes', 'zh', 'en'; got 'fr'.
    """
    return check_option(name, labels, LABELS)  # type: ignore[arg-type]


def label_language(labels: Labels, default: Literal["zh", "en"] = "zh") -> Literal["zh", "en"]:
    """The language of ``labels`` (``default`` for codes).

    >>> label_language("en"), label_language("codes")
    ('en', 'zh')
    """
    return default if labels == "codes" else labels


#: Quadrants of the importance-performance matrix (:mod:`toolkit.analysis.ipa`).
QUADRANTS: dict[str, dict[str, str]] = {
    "concentrate_here": {"zh": "重点改进", "en": "Concentrate here"},
    "keep_up": {"zh": "继续保持", "en": "Keep up the good work"},
    "low_priority": {"zh": "低优先级", "en": "Low priority"},
    "possible_overkill": {"zh": "可能过度", "en": "Possible overkill"},
}

#: Words of the importance-performance chart; ``{name}`` fields are filled in by the caller.
IPA_WORDS: dict[str, dict[str, str]] = {
    "importance": {"zh": "重要性", "en": "Importance"},
    "rate_axis": {
        "zh": "满意率及 {level} 置信区间",
        "en": "Satisfaction rate with {level} confidence interval",
    },
    "lines_note": {"zh": "虚线：重要性与满意率的{where}", "en": "Dashed lines: {where}"},
    "mean_lines": {"zh": "均值", "en": "the means of importance and rate"},
    "chosen_lines": {"zh": "给定值", "en": "the chosen importance and rate"},
}

#: Where the importance of an item comes from, as the chart's axis says it.
IPA_SOURCES: dict[str, dict[str, str]] = {
    "relative_weights": {
        "zh": "（对总体评价的解释份额）",
        "en": " (share of the overall rating explained)",
    },
    "dominance": {
        "zh": "（对总体评价的解释份额）",
        "en": " (share of the overall rating explained)",
    },
    "correlation": {"zh": "（与总体评价的相关）", "en": " (correlation with the overall rating)"},
    "stated": {"zh": "（自述）", "en": " (stated)"},
}


#: The coordination meeting's page (toolkit.report.coordination).
COORDINATION_WORDS: dict[str, dict[str, str]] = {
    "outcome": {"zh": "协调结果", "en": "Outcome"},
    "views": {"zh": "各方对是否达成一致的看法", "en": "The parties' view of the agreement"},
    "process": {
        "zh": "对协调过程的满意率（满意+基本满意）",
        "en": "Satisfaction with how the meeting was run (satisfied + basically satisfied)",
    },
    "agreement": {
        "zh": "结果：{agreement}；到场 {parties} 方。",
        "en": "Result: {agreement}; {parties} parties at the table.",
    },
    "terms": {"zh": "议定条款：", "en": "Agreed terms:"},
    "no_case": {
        "zh": "本次会议尚未登记到任何议题，没有记录协调结果。",
        "en": "This meeting is not linked to a case; no outcome is recorded.",
    },
    "ballots": {"zh": "反馈表 {n} 份。", "en": "{n} feedback forms."},
    "interval": {
        "zh": "比例后附 95% 置信区间（Wilson）。",
        "en": "Shares with 95% Wilson intervals.",
    },
    "reached": {"zh": "达成一致", "en": "agreement reached"},
    "partial": {"zh": "部分达成一致", "en": "partial agreement"},
    "none": {"zh": "没有达成一致", "en": "no agreement"},
}


#: The hearing's page (toolkit.report.hearing).
HEARING_WORDS: dict[str, dict[str, str]] = {
    "positions": {
        "zh": "各方案的态度（支持 / 有条件支持 / 反对 / 还没想好）",
        "en": "Positions on each option (support / conditional / oppose / undecided)",
    },
    "by_floor": {
        "zh": "按楼层的态度（方案一，直接受影响的住户）",
        "en": "Positions by floor (option 1, directly affected residents)",
    },
    "by_affected": {
        "zh": "按受影响程度的态度（方案一）",
        "en": "Positions by how strongly affected (option 1)",
    },
    "consensus": {"zh": "意见一致程度", "en": "Consensus"},
    "concerns": {"zh": "关心的问题", "en": "Concerns raised"},
    "pairs": {
        "zh": "同时提出的问题（最常见的组合）",
        "en": "Concerns raised together (most common pairs)",
    },
    "ballots": {"zh": "有效意见表 {n} 份。", "en": "{n} valid opinion forms."},
    "interval": {
        "zh": "比例后附 95% 置信区间（Wilson）；听证会人数少，区间较宽。",
        "en": "Shares with 95% Wilson intervals; hearings are small, so intervals are wide.",
    },
    "test": {
        "zh": "卡方检验 X² = {statistic:.2f}，自由度 {df}，p = {p:.3f}；Cramér's V = "
        "{v:.2f}（最小期望频数 {e:.1f}{warn}）。",
        "en": "Chi-square X² = {statistic:.2f}, df {df}, p = {p:.3f}; Cramér's V = {v:.2f} "
        "(smallest expected count {e:.1f}{warn}).",
    },
    "small": {"zh": "，小于5，检验仅供参考", "en": ", below 5: read the test with care"},
    "suppressed": {"zh": "人数不足5人的组不单列。", "en": "Groups of fewer than 5 are not shown."},
    "consensus_note": {
        "zh": "Tastle–Wierman 一致度：1 为完全一致，0 为两极对立；van der Eijk A：1 为完全一致，0 "
        "为均匀分散，−1 为两极对立。",
        "en": "Tastle–Wierman consensus: 1 unanimous, 0 split between the extremes; van der Eijk "
        "A: 1 unanimous, 0 uniform, −1 polarised.",
    },
    "none": {"zh": "无", "en": "none"},
}


#: Column names of the hearing's tables.
HEARING_COLUMNS: dict[str, dict[str, str]] = {
    "item": {"zh": "方案", "en": "option"},
    "level": {"zh": "态度", "en": "position"},
    "count": {"zh": "人数", "en": "count"},
    "n": {"zh": "回答人数", "en": "answered"},
    "estimate": {"zh": "比例", "en": "share"},
    "ci": {"zh": "95% 置信区间", "en": "95% CI"},
    "measure": {"zh": "指标", "en": "measure"},
    "level_other": {"zh": "同时提出", "en": "with"},
    "effect_size": {"zh": "phi", "en": "phi"},
}


#: The case report (toolkit.report.case).
CASE_WORDS: dict[str, dict[str, str]] = {
    "title": {"zh": "议题报告：{title}", "en": "Case report: {title}"},
    "timeline": {"zh": "时间线", "en": "Timeline"},
    "positions": {"zh": "听证会：各方案的态度", "en": "Hearing: positions on each option"},
    "agreement": {"zh": "协调会：协议", "en": "Coordination: agreement"},
    "satisfaction": {
        "zh": "评议会：总体评价满意率（满意+基本满意）",
        "en": "Evaluation: overall broad satisfaction rate",
    },
    "change": {
        "zh": "整改前后的变化（回头看评议 − 首次评议）",
        "en": "Change after rectification (follow-up − first evaluation)",
    },
    "rectification": {"zh": "整改事项", "en": "Rectification items"},
    "rectified_vs": {
        "zh": "整改事项是否比其他事项改善更多",
        "en": "Did the rectified items improve more than the others?",
    },
    "place": {
        "zh": "类别：{kind}；地点：{place}；当前阶段：{stage}。",
        "en": "Kind: {kind}; place: {place}; stage: {stage}.",
    },
    "no_meetings": {"zh": "尚未登记会议。", "en": "No meetings linked yet."},
    "none": {"zh": "无", "en": "none"},
    "interval": {
        "zh": "比例后附 95% 置信区间；会议人数少，区间较宽，不能仅凭点估计排名。",
        "en": "Rates with 95% intervals; meetings are small, so never rank them on the point "
        "estimates alone.",
    },
    "change_note": {
        "zh": "差值的 95% 置信区间为 Newcombe 混合得分区间，检验为两样本比例卡方检验。",
        "en": "Interval of the difference: Newcombe's hybrid score interval; test: two-sample "
        "chi-square test of proportions.",
    },
    "vs": {
        "zh": "整改事项平均变化比其他事项高 {d:+.0%}（秩和检验 W = {w:.0f}，p = {p:.3f}；整改 {n} "
        "项，其他 {m} 项）。",
        "en": "Rectified items changed {d:+.0%} more on average than the others (rank-sum W = "
        "{w:.0f}, p = {p:.3f}; {n} rectified, {m} other items).",
    },
}


#: The stages of a case, in the case report.
CASE_STAGES: dict[str, dict[str, str]] = {
    "hearing": {"zh": "听证会", "en": "hearing"},
    "coordination": {"zh": "协调会", "en": "coordination"},
    "evaluation": {"zh": "评议会", "en": "evaluation"},
    "follow_up": {"zh": "回头看评议", "en": "follow-up"},
    "opened": {"zh": "立项", "en": "opened"},
    "rectification": {"zh": "整改", "en": "rectification"},
    "closed": {"zh": "结案", "en": "closed"},
}


#: Where a meeting is held, in the case report.
CASE_VENUES: dict[str, dict[str, str]] = {
    "community": {"zh": "社区", "en": "community"},
    "park": {"zh": "园区", "en": "park"},
    "online": {"zh": "线上", "en": "online"},
}


#: The themes section of the meeting report (toolkit.report.themes).
THEMES_TEXT: dict[str, dict[str, str]] = {
    "heading": {"zh": "## 意见主题", "en": "## Themes of the comments"},
    "intro": {
        "zh": "{coded} 条书面意见经 {coders} 名编码员独立编码（编码表 {codebook}），分歧已核对 "
        "{settled} 条、待核对 {open} 条（未计入下表）。下表为各评价等级的意见中出现各主题的比"
        "例（按各评议对象的总体评价；不足 5 票的格不公布）。",
        "en": "{coded} written comments were coded independently by {coders} coders (codebook "
        "{codebook}); {settled} disagreements reconciled, {open} open (left out below). The "
        "table shows how often each theme occurs among the comments at each overall rating "
        "(cells of fewer than 5 ballots are not shown).",
    },
    "agreement": {
        "zh": "编码一致性（Krippendorff α，名义尺度）：",
        "en": "Agreement between coders (Krippendorff's alpha, nominal):",
    },
    "title": {"zh": "各评价等级意见中的主题", "en": "Themes by overall rating"},
    "x": {"zh": "提到该主题的意见占比", "en": "Share of comments with the theme"},
    "words": {"zh": "各评价等级意见中的常见词：", "en": "Frequent words by rating:"},
}


#: Column names of the themes section's tables.
THEMES_COLUMNS: dict[str, dict[str, str]] = {
    "theme": {"zh": "主题", "en": "Theme"},
    "alpha": {"zh": "α", "en": "alpha"},
    "agreeing": {"zh": "一致比例%", "en": "% agreeing"},
    "rating": {"zh": "评价", "en": "Rating"},
    "words": {"zh": "常见词", "en": "Frequent words"},
}


#: The voice section of the meeting report (toolkit.report.voice).
VOICE_TEXT: dict[str, dict[str, str]] = {
    "heading": {"zh": "## 发言情况", "en": "## Voice: who spoke"},
    "intro": {
        "zh": "会议记录员按发言人类别（不记姓名）记录了 {turns} 次发言，共 {minutes:.0f} "
        "分钟。出席 {present} 人中有 {speakers} 人（按座位号）发过言。发言时间的基尼系数为 "
        "{gini}（0 表示人人发言时间相同，越接近 1 越集中）；发言最多的 10% "
        "的人占全部发言时间的 {top}。",
        "en": "The secretary recorded {turns} turns by speaker category (no names), {minutes:.0f} "
        "minutes in all. {speakers} of the {present} people present (by seat) spoke. The "
        "Gini coefficient of speaking time is {gini} (0: everyone equally long; towards 1: a "
        "few speak); the top 10 % of speakers held {top} of the time.",
    },
    "no_seats": {
        "zh": "未按座位号记录，不计算个人间的不平等。",
        "en": "Turns were not recorded by seat, so inequality between people is not computed.",
    },
    "x": {"zh": "人数累计占比（按发言时间从少到多）", "en": "Cumulative share of people"},
    "y": {"zh": "发言时间累计占比", "en": "Cumulative share of speaking time"},
    "equal": {"zh": "人人相同", "en": "equal"},
    "gini": {"zh": "基尼系数 {value:.2f}", "en": "Gini {value:.2f}"},
    "share_time": {"zh": "发言时间占比", "en": "Share of speaking time"},
    "share_turns": {"zh": "发言次数占比", "en": "Share of turns"},
    "lorenz_title": {"zh": "发言时间的洛伦兹曲线", "en": "Lorenz curve of speaking time"},
    "share_title": {"zh": "各方发言占比", "en": "Shares of the floor"},
}


#: Column names of the voice section's tables.
VOICE_COLUMNS: dict[str, dict[str, str]] = {
    "group": {"zh": "发言方", "en": "Group"},
    "turns": {"zh": "次数", "en": "Turns"},
    "minutes": {"zh": "分钟", "en": "Minutes"},
    "share_turns": {"zh": "次数占比", "en": "Share of turns"},
    "share_time": {"zh": "时间占比", "en": "Share of time"},
    "category": {"zh": "发言人类别", "en": "Category"},
    "mean_seconds": {"zh": "平均每次（秒）", "en": "Mean seconds per turn"},
    "speaker": {"zh": "前一位", "en": "Speaker"},
    "followed_by": {"zh": "接着发言", "en": "Followed by"},
    "times": {"zh": "次数", "en": "Times"},
    "share_followed": {"zh": "占前一位之后发言的比例", "en": "Share of what followed"},
}


#: The words of the tablet form, sign-in page and board (toolkit.collect.i18n); residents see
#: these, so they stay short and plain.
#: the repeat-group control on the tablet (toolkit.collect.repeat_controls)
REPEAT_WORDS: dict[str, dict[str, str]] = {
    "add": {"zh": "添加一项", "en": "Add one"},
    "remove": {"zh": "删除此项", "en": "Remove this one"},
}

TABLET_WORDS: dict[str, dict[str, str]] = {
    "progress": {"zh": "第 {page} / {pages} 页", "en": "Page {page} of {pages}"},
    "back": {"zh": "上一页", "en": "Back"},
    "next": {"zh": "下一页", "en": "Next"},
    "review": {"zh": "检查答案", "en": "Review"},
    "review_title": {"zh": "请检查您的回答", "en": "Please check your answers"},
    "review_hint": {
        "zh": "如需修改，请点“修改”。确认无误后请点“提交”。",
        "en": "Tap “Change” to correct an answer. Tap “Submit” when everything is right.",
    },
    "change": {"zh": "修改", "en": "Change"},
    "submit": {"zh": "提交", "en": "Submit"},
    "submitting": {"zh": "正在提交…", "en": "Submitting…"},
    "thanks_title": {
        "zh": "提交成功，谢谢您的参与！",
        "en": "Submitted. Thank you for taking part!",
    },
    "thanks_hint": {
        "zh": "请把平板交还工作人员，或交给下一位居民。",
        "en": "Please hand the tablet back to the staff or to the next resident.",
    },
    "next_respondent": {"zh": "下一位", "en": "Next person"},
    "not_answered": {"zh": "（未回答）", "en": "(not answered)"},
    "saved": {"zh": "已保存 ✓", "en": "Saved ✓"},
    "save_failed": {
        "zh": "保存失败，请联系工作人员",
        "en": "Could not save. Please ask the staff.",
    },
    "submit_failed": {
        "zh": "保存失败，请联系工作人员。您的回答仍在，可以稍后再点“提交”。",
        "en": "Could not save. Please ask the staff. Your answers are kept; tap “Submit” again later.",
    },
    "rejected": {
        "zh": "有题目需要修改，请看红色提示。",
        "en": "Some answers need attention; see the messages in red.",
    },
    "large_text": {"zh": "大字", "en": "Large text"},
    "language": {"zh": "English", "en": "中文"},
    "required": {"zh": "此题必答", "en": "This question is required"},
    "restored": {
        "zh": "已恢复您上次未提交的回答。",
        "en": "Your unsubmitted answers have been restored.",
    },
    "code_title": {"zh": "请输入选票上的验证码", "en": "Please enter the code on your ballot slip"},
    "code_start": {"zh": "开始填写", "en": "Start"},
    "code_invalid": {
        "zh": "验证码不正确或已使用，请核对后重试，或联系工作人员。",
        "en": "This code is wrong or already used. Please check it or ask the staff.",
    },
    "code_used": {
        "zh": "这个验证码已经投过票了，每个验证码只能投一次。如有疑问请联系工作人员。",
        "en": "This code has already been used to vote; each code votes once. Ask the staff.",
    },
    "clear": {"zh": "清除", "en": "Clear"},
    "delete": {"zh": "删除", "en": "Delete"},
    "number_invalid": {"zh": "请输入数字", "en": "Please enter a number"},
    "integer_invalid": {"zh": "请输入整数", "en": "Please enter a whole number"},
    "date_hint": {"zh": "请选择日期", "en": "Choose a date"},
    "subject_page": {"zh": "{title}：{subject}", "en": "{title}: {subject}"},
    "page_failed": {
        "zh": "页面暂时无法打开，请联系工作人员。",
        "en": "This page cannot open right now. Please ask the staff.",
    },
    "offline": {
        "zh": "与服务器的连接已断开，请不要关闭页面，正在重新连接……",
        "en": "The connection is lost. Please keep this page open; reconnecting…",
    },
    "other_choice": {"zh": "其他", "en": "Other"},
}


#: Every table above by name (for checks that they agree).
TABLES: dict[str, dict[str, dict[str, str]]] = {
    "LEVELS": LEVELS,
    "ITEMS": ITEMS,
    "SUBJECTS": SUBJECTS,
    "GENDERS": GENDERS,
    "ROLES": ROLES,
    "VARIABLES": VARIABLES,
    "MEASURES": MEASURES,
    "META_COLUMN_LABELS": META_COLUMN_LABELS,
    "INDICATOR": INDICATOR,
    "CHART_WORDS": CHART_WORDS,
    "REPORT_WORDS": REPORT_WORDS,
    "RULE_TEXTS": RULE_TEXTS,
    "REPORT_HEADINGS": REPORT_HEADINGS,
    "REPORT_NOTES": REPORT_NOTES,
    "CHANNELS": CHANNELS,
    "QUADRANTS": QUADRANTS,
    "IPA_WORDS": IPA_WORDS,
    "IPA_SOURCES": IPA_SOURCES,
    "COORDINATION_WORDS": COORDINATION_WORDS,
    "HEARING_WORDS": HEARING_WORDS,
    "HEARING_COLUMNS": HEARING_COLUMNS,
    "CASE_WORDS": CASE_WORDS,
    "CASE_STAGES": CASE_STAGES,
    "CASE_VENUES": CASE_VENUES,
    "REPEAT_WORDS": REPEAT_WORDS,
    "TABLET_WORDS": TABLET_WORDS,
    "THEMES_TEXT": THEMES_TEXT,
    "THEMES_COLUMNS": THEMES_COLUMNS,
    "VOICE_TEXT": VOICE_TEXT,
    "VOICE_COLUMNS": VOICE_COLUMNS,
}


def word(table: dict[str, dict[str, str]], key: str, language: str, **values: object) -> str:
    """The text of ``key`` in ``language`` from ``table``, with ``{name}`` fields filled in."""
    text = table[key][language]
    return text.format(**values) if values else text


def by_language(
    table: dict[str, dict[str, str]], **nested: dict[str, dict[str, str]]
) -> dict[str, dict[str, Any]]:
    """A table turned round: ``{"zh": {key: text}, "en": {key: text}}``, for pages that take
    all their words in one language at once; ``nested`` tables become sub-dicts under their name.

    >>> by_language(SUBJECTS)["en"]["wuye"]
    'Property management'
    """
    return {
        language: {
            **{key: text[language] for key, text in table.items()},
            **{name: {k: v[language] for k, v in sub.items()} for name, sub in nested.items()},
        }
        for language in ("zh", "en")
    }
