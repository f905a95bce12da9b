// Citation markers: open the source block under the same answer and scroll to it.
if (!window.__paCiteHandler) {
  window.__paCiteHandler = true;
  document.addEventListener("click", (event) => {
    const link = event.target.closest ? event.target.closest("a.pa-cite") : null;
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    const id = link.dataset.target || (link.getAttribute("href") || "").replace(/^#/, "");
    const target = document.getElementById(id);
    if (!target) return;
    target.open = true;
    target.scrollIntoView({ behavior: "smooth", block: "center" });
    // An animation rather than a class: the chat may re-render and keep a stale class.
    target.animate([{ boxShadow: "0 0 0 3px #f5b942" }, { boxShadow: "0 0 0 0 transparent" }],
                   { duration: 1800, easing: "ease-out" });
  }, true);
}

// Gradio's own labels (aria-label, title, a few hidden texts) follow the browser's language
// and some are never translated (e.g. "Copy message"): staff must see Chinese only, so the
// known ones are rewritten whenever Gradio (re-)renders them.
if (!window.__paChineseLabels) {
  window.__paChineseLabels = true;
  const WORDS = {
    "Copy message": "复制回答", "Copied message": "已复制", "Copy": "复制", "Copied": "已复制",
    "Clear": "清空", "Like": "赞", "Dislike": "踩", "Liked": "已赞", "Disliked": "已踩",
    "Empty value": "暂无内容", "chatbot conversation": "对话记录", "Retry": "重试",
    "Undo": "撤销", "Edit": "编辑", "Share": "分享", "Download": "下载", "Submit": "发送",
    "Loading...": "加载中…", "Error": "错误", "Close": "关闭", "Examples": "示例问题",
    "common.complete": "完成", "Textbox": "问题", "Dropdown": "下拉选择", "Checkbox": "勾选",
    "Chatbot": "对话", "File": "文件", "Upload": "上传", "Remove": "移除", "Select": "选择",
    "Info": "提示", "Warning": "注意", "Success": "成功", "Close toast": "关闭",
    "Close notification": "关闭", "Dismiss": "关闭", "close": "关闭",
    "Scroll down": "回到最新回答", "Scroll to bottom": "回到最新回答",
  };
  const PREFIXES = [["user's message: ", "提问："], ["bot's message: ", "回答："]];
  const ATTRS = ["aria-label", "title", "placeholder", "aria-roledescription"];
  const chinese = (value, el) => {
    if (WORDS[value]) return WORDS[value];
    for (const [english, zh] of PREFIXES) {
      // The message text rather than its HTML, which Gradio puts into the label verbatim.
      if (value.startsWith(english)) return zh + (el.innerText || "").trim().slice(0, 200);
    }
    return null;
  };
  const fix = (root) => {
    const elements = root.querySelectorAll ? [root, ...root.querySelectorAll("*")] : [];
    for (const el of elements) {
      for (const attr of ATTRS) {
        const value = el.getAttribute && el.getAttribute(attr);
        const zh = value && chinese(value, el);
        if (zh && zh !== value) el.setAttribute(attr, zh);
      }
      for (const node of el.childNodes || []) {
        const text = node.nodeType === 3 && node.textContent.trim();
        if (text && WORDS[text]) node.textContent = node.textContent.replace(text, WORDS[text]);
      }
    }
  };
  // No 赞/踩 under an error: it is not an answer. Each ancestor of the error that holds
  // no other answer belongs to its message, so its rating buttons are this message's.
  const RATING = ["赞", "踩", "Like", "Dislike", "已赞", "已踩"]
    .map((label) => `button[aria-label="${label}"]`).join(", ");
  const hideRatingOfErrors = () => {
    for (const error of document.querySelectorAll("#pa-chat .pa-error")) {
      let box = error.parentElement;
      while (box && box.id !== "pa-chat" && box.querySelectorAll(".pa-answer").length <= 1) {
        for (const button of box.querySelectorAll(RATING)) button.style.display = "none";
        box = box.parentElement;
      }
    }
  };
  const observer = new MutationObserver((changes) => {
    hideRatingOfErrors();
    for (const change of changes) {
      if (change.type === "attributes" || change.type === "characterData") {
        fix(change.target.nodeType === 3 ? change.target.parentNode : change.target);
      }
      for (const node of change.addedNodes || []) fix(node.nodeType === 3 ? node.parentNode : node);
    }
  });
  observer.observe(document.documentElement, { subtree: true, childList: true,
    characterData: true, attributes: true, attributeFilter: ATTRS });
  fix(document.documentElement);
}

// The question's length against the limit, kept current as staff type (and after sending).
if (!window.__paCounter) {
  window.__paCounter = true;
  setInterval(() => {
    const counter = document.getElementById("pa-count");
    const box = document.querySelector("#pa-question textarea");
    if (!counter || !box) return;
    const limit = Number(counter.dataset.limit);
    const used = box.value.trim().length;
    const over = used > limit;
    const text = over ? `已输入 ${used} 字，超出上限 ${limit} 字，请精简` : `${used}/${limit} 字`;
    if (counter.textContent !== text) counter.textContent = text;
    counter.classList.toggle("pa-over", over);
  }, 300);
}
