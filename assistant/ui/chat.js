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
