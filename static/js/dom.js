// The one way the page builds elements: el("td", { className: "x", "aria-label": "y" }, "text", child...).
// A name the element has as a property (className, value, hidden, title...) is set as one;
// any other (aria-*, data-*, autocorrect) as an attribute. Children may be text or nodes;
// null, undefined and false are skipped, so parts can be left out inline.
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name in node) node[name] = value;
    else node.setAttribute(name, value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}
