"""The words of the tablet form, sign-in page and board, in Chinese and English.

Residents see these; keep them short and plain. ``t(key, language, **values)`` formats one.

>>> t("progress", "zh", page=3, pages=7)
'第 3 / 7 页'
>>> t("progress", "en", page=3, pages=7)
'Page 3 of 7'
"""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
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
}


def t(key: str, language: str = "zh", /, **values: object) -> str:
    """The string ``key`` in ``language`` (Chinese when there is no translation), formatted."""
    entry = STRINGS[key]
    text = entry.get(language) or entry["zh"]
    return text.format(**values) if values else text
