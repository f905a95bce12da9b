"""Cleaning: decoded page text → the document's own paragraphs.

Removes web boilerplate (breadcrumbs, widgets, navigation lists, footers), keeps a body
printed twice only once, and unifies whitespace and punctuation width. Metadata is read
from the raw lines *before* cleaning (the metadata box is boilerplate to the body).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_SPACES = re.compile(r"[\u00a0\u2002\u2003\u2009\u3000\t\r\f\v]+")
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")
_BULLET = re.compile(r"^[•·●◆■□▪►]\s*")
# Markdown: heading marks are layout (## 第一章 总则), HTML comments (<!-- INFO END -->) notes.
_MARKDOWN_HEADING = re.compile(r"^#{1,6}(?:\s+|(?=[^#\s]))")
_HTML_COMMENT = re.compile(r"^<!--.*-->$")
# Markdown posts may carry raw HTML: style and script blocks and comments are not text, tags
# around a paragraph are layout (<p cms-style="font-L">　　新华社北京…</p>).
_HTML_BLOCKS = re.compile(r"<(style|script)\b.*?</\1\s*>|<!--.*?-->", re.DOTALL | re.IGNORECASE)
_HTML_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")

# Lines that are page furniture, never document text. Anchored so a body sentence that
# merely mentions 电话 or 地址 is kept.
_BOILERPLATE = [
    r"(当前位置|您当前位置|您的位置|你的位置|当前的位置|所在位置)\s*[:：]",
    r"首页\s*[>＞»]",
    r"导航$",
    r"回到顶部$",
    r"返回顶部$",
    r"分享到\s*[:：]?",
    r"【?打印(正文|本页)?】?$",
    r"\[\s*打印\s*\]$",
    r"排行榜$",
    r"相关(政策与解读|政策解读|解读|链接|阅读|文章)$",
    r"【?关闭(窗口)?】?$",
    r"用户登录$",
    r"[×xX]$",
    r"字体\s*[:：]",
    r"字号\s*[:：]",
    r"(扫一扫|扫描二维码|手机扫码)",
    r"您好[!！]?\s*欢迎",
    r"(联系我们|网站地图|关于我们|隐私声明|网站声明)$",
    r"(地址|电话|传真|邮编|邮箱|E-?mail)\s*[:：]\s*$",
    r".{0,20}官方(微信|微博)(号)?$",
    r"(主办单位|承办单位|运行维护单位|技术支持|网站标识码|网站识别码)\s*[:：]",
    r".*(ICP\s*备|ICP证|公网安备|备案号).*",
    r"©|Copyright",
    r"(微信|微博|客户端|头条号|手机版|电脑版|无障碍)(\s+\S+)?$",
    r"(图片|文字|视频|动漫|访谈)解读\s*[:：]?$",
    r"(省政府常务会|新闻发布会|部门发文|市州发文|相关文件|地方发文)\s*[:：]?$",
    r"来源\s*[:：]",
    r"作者\s*[:：]",
    r"(阅读|浏览|点击)(次数|量)?\s*[:：]",
    r"阅\s*[:：]\s*\d+$",
    r"\d{3,4}-\d{7,8}$",  # a bare phone number line
    r"\d{4}年\d{2}月\d{2}日\s+\d{1,2}时\d{2}分$",  # page timestamp
    # News and platform furniture: disclaimers, credits, counters, report buttons.
    r"(免责声明|郑重声明|版权声明)\s*[:：]",
    r"(文章|稿件|信息)?来源\s*[|｜]",
    r"文章来源\s*[:：]",
    r"原标题\s*[:：]",
    r"(责任)?编辑\s*[|｜:：]",
    r".{0,20}尽在\S{0,12}(APP|App|客户端)$",
    r"(供\s*稿|编\s*辑|排\s*版|签\s*发|审\s*核|校\s*对)\s*[|｜]",  # credits, letter-spaced
    r"校对\s*[|｜:：]",
    r"举报$",
    r"\+\s*关注$",
    r"(阅读|在看|点赞)\s*\d+(\.\d+)?万?\+?$",
]
_BOILERPLATE_RE = re.compile("^(?:" + "|".join(_BOILERPLATE) + ")", re.IGNORECASE)

# Metadata box lines (索引号, 文号, 有效性, …): read by metadata.py, then dropped.
METADATA_KEY = re.compile(
    r"^(索\s*引\s*号|公文种类|发布机构|发文机关|成文日期|发布日期|发布时间|文\s*号|"
    r"有\s*效\s*性|废止日期|主题分类|主\s*题\s*词|标\s*题|生效日期|失效日期)\s*[:：]"
)

_FOOTER_LABEL = re.compile(r"^(地址|电话|传真|邮编|邮箱|E-?mail)\s*[:：]\s*$", re.IGNORECASE)

_CJK = r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef“”‘’《》]"
_CJK_RE = re.compile(_CJK)
_HALF_TO_FULL = {",": "，", ":": "：", ";": "；", "?": "？", "!": "！", "(": "（", ")": "）"}


@dataclass
class CleanResult:
    paragraphs: list[str]
    removed: list[str] = field(default_factory=list)
    duplicate_paragraphs: int = 0


def normalise_line(line: str) -> str:
    """Unify spaces; strip bullets and surrounding blanks."""
    return _BULLET.sub("", _SPACES.sub(" ", _INVISIBLE.sub("", line)).strip()).strip()


def full_width_punctuation(text: str) -> str:
    """Half-width , : ; ? ! ( ) next to Chinese text → full-width, as official documents print them.

    Punctuation between digits or Latin letters (1,000  10:30) is left alone; a bracket
    pair around Latin text inside Chinese ("分组(DRG)付费") becomes full-width too.
    """
    out = []
    for index, char in enumerate(text):
        if char in _HALF_TO_FULL and _beside_cjk(text, index, char):
            out.append(_HALF_TO_FULL[char])
        else:
            out.append(char)
    return "".join(out)


def _is_cjk(char: str) -> bool:
    return bool(char) and bool(_CJK_RE.match(char))


def _beside_cjk(text: str, index: int, mark: str) -> bool:
    prev = text[index - 1] if index else ""
    nxt = text[index + 1] if index + 1 < len(text) else ""
    if _is_cjk(prev) or _is_cjk(nxt):
        return True
    if mark == "(":
        close = text.find(")", index)
        return close != -1 and _is_cjk(text[close + 1 : close + 2])
    if mark == ")":
        open_ = text.rfind("(", 0, index)
        return open_ > 0 and _is_cjk(text[open_ - 1])
    return False


def is_boilerplate(line: str, was_bullet: bool) -> bool:
    if _BOILERPLATE_RE.match(line) or METADATA_KEY.match(line):
        return True
    # Navigation and "related documents" lists are bulleted; body paragraphs are not.
    return was_bullet and len(line) < 80


def drop_repeated_run(
    paragraphs: list[str], min_run: int = 3, min_chars: int = 200
) -> tuple[list[str], int]:
    """Remove a second copy of a run of paragraphs (a page that prints the body twice)."""
    first_seen: dict[str, int] = {}
    for j, para in enumerate(paragraphs):
        i = first_seen.get(para)
        if i is not None and len(para) >= 10:
            length = _run_length(paragraphs, i, j)
            run = paragraphs[j : j + length]
            if length >= min_run and sum(map(len, run)) >= min_chars:
                rest, more = drop_repeated_run(paragraphs[j + length :], min_run, min_chars)
                return paragraphs[:j] + rest, length + more
        first_seen.setdefault(para, j)
    return paragraphs, 0


def _run_length(paragraphs: list[str], i: int, j: int) -> int:
    length = 0
    while (
        j + length < len(paragraphs)
        and i + length < j
        and paragraphs[i + length] == paragraphs[j + length]
    ):
        length += 1
    return length


_FRONT_MATTER = re.compile(r"^\s*---[ \t]*\n(?P<body>.*?)\n---[ \t]*(?:\n|$)", re.DOTALL)


def front_matter(text: str) -> dict[str, str]:
    """A Markdown post's YAML front matter (title: '…', date: …), as plain key → value."""
    found = _FRONT_MATTER.match(text)
    if not found:
        return {}
    pairs = (re.match(r"^(\w+)\s*:\s*(.*?)\s*$", line) for line in found["body"].splitlines())
    return {m[1]: m[2].strip("'\"") for m in pairs if m and m[2]}


def clean_text(text: str) -> CleanResult:
    """Decoded text → body paragraphs, with what was removed (for the ingest report)."""
    kept, removed = [], []
    settings = front_matter(text)
    text = _FRONT_MATTER.sub("", text, count=1)  # page settings, not text
    if settings.get("title"):
        text = settings["title"] + "\n" + text  # the post's heading, where a page prints it
    if "<" in text:
        text = _HTML_TAG.sub("", _HTML_BLOCKS.sub("", text))
    value_follows = False  # a footer label ("地址:") whose value sits on the next line
    for line in text.splitlines():
        if not line.strip():
            continue
        was_bullet = bool(_BULLET.match(line.strip()))
        para = _MARKDOWN_HEADING.sub("", normalise_line(line))
        if not para or _HTML_COMMENT.match(para):
            continue
        if is_boilerplate(para, was_bullet) or (value_follows and len(para) < 40):
            removed.append(para)
            value_follows = bool(_FOOTER_LABEL.match(para))
            continue
        value_follows = False
        kept.append(full_width_punctuation(para))
    deduped, duplicates = drop_repeated_run(kept)
    return CleanResult(deduped, removed, duplicates)
