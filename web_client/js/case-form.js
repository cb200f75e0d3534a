// A form generated from the persona pack's JSON Schema (GET /api/cases/schema), so fields
// added to the schema appear without hand-coding. It edits `data` (plain JSON) in place and
// calls onChange after every edit. Fields that name another part of the pack (a gate's
// prerequisites, a trigger's fact, a checklist item's facts) are choices of the ids that
// exist, never typed. Every field carries data-path="a.0.b" so problems can be shown beside it.

import { clear, h, newId } from "./dom.js";

// one-line inputs; every other string is a small text area (lines of dialogue wrap)
const SHORT = new Set(["id", "name", "gender", "language", "occupation", "espeak_voice", "piper_voice", "title", "topic", "item"]);
const TOP_SCALARS = "Case";

export function humanise(key) {
  const s = String(key).replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// what one entry of a list is called, where "Add <singular of the list's title>" reads badly
const ITEM_NAMES = { requires: "Prerequisite", again: "Other wording", deny: "Line", unsure: "Line", deflect: "Line",
  guarded: "Line", neutral: "Line", open: "Line" };

function singular(label) {
  return label.replace(/ies$/, "y").replace(/s$/, "");
}

export function getAt(obj, path) {
  return path.reduce((o, k) => (o === null || o === undefined ? undefined : o[k]), obj);
}

function setAt(root, path, value) {
  let o = root;
  for (let i = 0; i < path.length - 1; i += 1) {
    const k = path[i];
    if (o[k] === null || typeof o[k] !== "object") o[k] = typeof path[i + 1] === "number" ? [] : {};
    o = o[k];
  }
  o[path[path.length - 1]] = value;
}

/** Remove the key at path, then any mapping left empty above it (its defaults apply). */
function deleteAt(root, path) {
  for (let end = path.length; end > 0; end -= 1) {
    const parent = getAt(root, path.slice(0, end - 1));
    const key = path[end - 1];
    if (!parent || typeof parent !== "object" || Array.isArray(parent)) return;
    if (end === path.length) delete parent[key];
    else if (parent[key] && typeof parent[key] === "object" && !Array.isArray(parent[key]) && !Object.keys(parent[key]).length) delete parent[key];
    else return;
  }
}

function matches(pattern, path) {
  const parts = pattern.split(".");
  return parts.length === path.length && parts.every((p, i) => p === "*" || p === String(path[i]));
}

export function createForm({ schema, references = {}, keys = {}, data, onChange }) {
  const defs = schema.$defs || {};
  const openPaths = new Set(); // list items the author opened, kept open across redraws

  function deref(node) {
    let n = node || {};
    while (n.$ref) {
      const { $ref, ...rest } = n;
      n = { ...defs[$ref.split("/").pop()], ...rest };
    }
    return n;
  }

  function typeFits(v, value) {
    if (value === undefined || value === null) return false;
    if (v.type === "array") return Array.isArray(value);
    if (v.type === "object") return typeof value === "object" && !Array.isArray(value);
    if (v.type === "integer" || v.type === "number") return typeof value === "number";
    return typeof value === v.type;
  }

  /** The schema node for a value: anyOf resolved (nullable noted), $refs followed. */
  function resolve(node, value) {
    const n = deref(node);
    if (!n.anyOf) return { node: n, nullable: false };
    const all = n.anyOf.map(deref);
    const variants = all.filter((v) => v.type !== "null");
    const pick = variants.find((v) => typeFits(v, value)) || variants[0] || {};
    return { node: { ...pick, title: n.title || pick.title, description: n.description || pick.description, default: n.default },
      nullable: variants.length < all.length };
  }

  function skeleton(node) {
    const { node: n } = resolve(node);
    if (n.enum) return n.enum[0];
    if (n.const !== undefined) return n.const;
    if (n.type === "object") {
      const o = {};
      for (const name of n.required || []) o[name] = skeleton(n.properties[name]);
      return o;
    }
    if (n.type === "array") return (n.minItems || 0) > 0 ? [skeleton(n.items)] : [];
    if (n.type === "integer" || n.type === "number") return n.default ?? n.minimum ?? 0;
    if (n.type === "boolean") return false;
    return "";
  }

  const refKind = (path) => Object.entries(references).find(([p]) => matches(p, path))?.[1] || null;

  function idsOf(coll) {
    return (Array.isArray(data[coll]) ? data[coll] : []).map((x) => x && x.id).filter((x) => typeof x === "string" && x);
  }

  function refOptions(kind) {
    const plain = { fact: "facts", concern: "hidden_concerns", opportunity: "empathic_opportunities", checklist: "checklist" }[kind];
    if (plain) return idsOf(plain).map((id) => [id, id]);
    if (kind === "fact_or_concern") {
      return [...idsOf("facts").map((id) => [id, `${id} (fact)`]), ...idsOf("hidden_concerns").map((id) => [id, `${id} (hidden concern)`])];
    }
    const opps = idsOf("empathic_opportunities");
    return [...opps.map((id) => [`acknowledged:${id}`, `acknowledged: ${id}`]), ...opps.map((id) => [`explored:${id}`, `explored: ${id}`]),
      ...idsOf("facts").map((id) => [`disclosed:${id}`, `disclosed: ${id}`])];
  }

  function fillSelect(select, options, value, blank) {
    clear(select);
    if (blank !== null) select.appendChild(h("option", { value: "" }, blank));
    const known = options.some(([v]) => v === value);
    if (value && !known) select.appendChild(h("option", { value }, `${value} (not in this case)`));
    for (const [v, text] of options) select.appendChild(h("option", { value: v }, text));
    select.value = value ?? "";
  }

  function changed(path, raw, required, type) {
    if (raw === "" || raw === null || raw === undefined) {
      if (required) setAt(data, path, type === "string" ? "" : null);
      else deleteAt(data, path);
    } else {
      setAt(data, path, raw);
    }
    onChange(path);
  }

  function scalar(node, path, { required, label, describedBy }) {
    const value = getAt(data, path);
    const id = newId("cf");
    const kind = refKind(path);
    const attrs = { id, name: path.join("."), "aria-describedby": describedBy };
    let control;
    if (kind) {
      control = h("select", attrs);
      const blank = required ? "Choose…" : "(none)";
      fillSelect(control, refOptions(kind), value, blank);
      // ids change as the author edits: offer the current ones whenever the list is opened
      const refresh = () => fillSelect(control, refOptions(kind), control.value, blank);
      control.addEventListener("focus", refresh);
      control.addEventListener("mousedown", refresh);
      control.addEventListener("change", () => changed(path, control.value, required, "string"));
    } else if (node.const !== undefined) {
      control = h("input", { ...attrs, value: String(node.const), readonly: true });
    } else if (node.enum) {
      control = h("select", attrs);
      const blank = required ? null : `(default: ${node.default ?? "none"})`;
      fillSelect(control, node.enum.map((v) => [v, v]), value, blank);
      control.addEventListener("change", () => changed(path, control.value, required, "string"));
    } else if (node.type === "boolean") {
      control = h("input", { ...attrs, type: "checkbox", checked: value ?? node.default ?? false });
      control.addEventListener("change", () => changed(path, control.checked, true, "boolean"));
    } else if (node.type === "integer" || node.type === "number") {
      control = h("input", { ...attrs, type: "number", inputmode: "decimal", value: value ?? "", min: node.minimum, max: node.maximum,
        step: node.type === "integer" ? "1" : "any", placeholder: node.default !== undefined && node.default !== null ? String(node.default) : null });
      control.addEventListener("input", () => changed(path, control.value === "" ? null : Number(control.value), required, "number"));
    } else if (node.type === "string" || !node.type) {
      const short = SHORT.has(String(path[path.length - 1])) || node.pattern;
      control = h(short ? "input" : "textarea", { ...attrs, rows: short ? null : 2, spellcheck: short ? "false" : "true",
        placeholder: node.default ? String(node.default) : null });
      control.value = value ?? "";
      control.addEventListener("input", () => changed(path, control.value, required, "string"));
    } else {
      return jsonField(node, path, { required, label });
    }
    return { control, id };
  }

  function fieldBox(path, label, help, controlOf) {
    const helpId = help ? newId("cfh") : null;
    const { control, id } = controlOf(helpId);
    return h("div", { class: ["ce-field", control.type === "checkbox" && "ce-field--check"], dataset: { path: path.join(".") } },
      h("label", { for: id }, label), control, help ? h("p", { class: "field__help", id: helpId }, help) : null);
  }

  function jsonField(node, path, { required, label }) {
    // a shape this form does not know: edit it as JSON rather than hide it
    const id = newId("cf");
    const control = h("textarea", { id, rows: 3, class: "ce-json", spellcheck: "false" });
    control.value = getAt(data, path) === undefined ? "" : JSON.stringify(getAt(data, path));
    control.addEventListener("input", () => {
      try {
        changed(path, control.value.trim() ? JSON.parse(control.value) : null, required, "json");
        control.removeAttribute("aria-invalid");
      } catch (_) {
        control.setAttribute("aria-invalid", "true");
      }
    });
    return { control, id, label: `${label} (JSON)` };
  }

  function render(rawNode, path, { required = false, label } = {}) {
    const { node } = resolve(rawNode, getAt(data, path));
    const name = label || node.title || humanise(path[path.length - 1]);
    if (node.type === "object" && node.properties) return objectGroup(node, path, name);
    if (node.type === "object" && node.additionalProperties && typeof node.additionalProperties === "object") return mapGroup(node, path, name);
    if (node.type === "array" && node.items) return listGroup(node, path, name, required);
    return fieldBox(path, name, node.description, (helpId) => scalar(node, path, { required, label: name, describedBy: helpId }));
  }

  function properties(node, path) {
    return Object.entries(node.properties).map(([key, prop]) => render(prop, [...path, key], { required: (node.required || []).includes(key) }));
  }

  function objectGroup(node, path, name) {
    return h("fieldset", { class: "ce-group", dataset: { path: path.join(".") } },
      h("legend", {}, name), node.description ? h("p", { class: "field__help" }, node.description.split("\n\n")[0]) : null,
      properties(node, path));
  }

  function removeButton(what, onclick) {
    return h("button", { type: "button", class: "button button--ghost button--small ce-remove", "aria-label": `Remove ${what}`, onclick }, "Remove");
  }

  function itemTitle(item, n, itemName) {
    if (typeof item !== "object" || item === null) return `${itemName} ${n}`;
    const words = item.id || item.topic || item.item || item.text || item.line || "";
    return `${itemName} ${n}${words ? `: ${String(words).slice(0, 60)}` : ""}`;
  }

  function listGroup(node, path, name, required) {
    const itemNode = node.items;
    const itemName = ITEM_NAMES[path[path.length - 1]] || singular(name);
    const box = h("div", { class: "ce-list-items" });
    const group = h("fieldset", { class: "ce-group ce-list", dataset: { path: path.join(".") } },
      h("legend", {}, name), node.description ? h("p", { class: "field__help" }, node.description) : null, box);
    const add = h("button", { type: "button", class: "button button--small ce-add" }, `Add ${itemName.toLowerCase()}`);
    group.appendChild(add);

    function draw(focusIndex = null) {
      clear(box);
      const items = getAt(data, path);
      (Array.isArray(items) ? items : []).forEach((item, i) => {
        const itemPath = [...path, i];
        const { node: inner } = resolve(itemNode, item);
        const remove = removeButton(itemTitle(item, i + 1, itemName), () => {
          const list = getAt(data, path);
          list.splice(i, 1);
          if (!list.length && !required) deleteAt(data, path);
          onChange(path);
          draw();
          add.focus();
        });
        let row;
        if (inner.type === "object") {
          const key = itemPath.join(".");
          const details = h("details", { class: "ce-item", dataset: { path: key }, open: openPaths.has(key) || focusIndex === i },
            h("summary", {}, itemTitle(item, i + 1, itemName)),
            h("div", { class: "ce-item__body" }, inner.properties ? properties(inner, itemPath) : render(inner, itemPath, { required: true }),
              h("div", { class: "ce-item__actions" }, remove)));
          details.addEventListener("toggle", () => (details.open ? openPaths.add(key) : openPaths.delete(key)));
          row = details;
        } else {
          const label = `${itemName} ${i + 1}`;
          row = h("div", { class: "ce-row" },
            fieldBox(itemPath, label, null, (helpId) => scalar(inner, itemPath, { required: true, label, describedBy: helpId })), remove);
        }
        box.appendChild(row);
      });
      if (focusIndex !== null) {
        const target = box.children[focusIndex];
        const first = target && target.querySelector("input, textarea, select");
        if (first) first.focus();
      }
    }
    add.addEventListener("click", () => {
      let list = getAt(data, path);
      if (!Array.isArray(list)) {
        list = [];
        setAt(data, path, list);
      }
      list.push(skeleton(itemNode));
      onChange(path);
      draw(list.length - 1);
    });
    draw();
    return group;
  }

  function mapGroup(node, path, name) {
    const allowed = keys[path.join(".")] || null;
    const box = h("div", { class: "ce-list-items" });
    const keyId = newId("cfk");
    const keyControl = allowed ? h("select", { id: keyId }) : h("input", { id: keyId, spellcheck: "false" });
    const add = h("button", { type: "button", class: "button button--small ce-add" }, "Add");
    const group = h("fieldset", { class: "ce-group ce-map", dataset: { path: path.join(".") } },
      h("legend", {}, name), node.description ? h("p", { class: "field__help" }, node.description) : null, box,
      h("div", { class: "ce-map__add" }, h("label", { for: keyId }, "Key"), keyControl, add));

    function draw() {
      clear(box);
      const map = getAt(data, path) || {};
      for (const key of Object.keys(map)) {
        const entry = render(node.additionalProperties, [...path, key], { required: true, label: key });
        entry.appendChild(removeButton(key, () => {
          deleteAt(data, [...path, key]);
          onChange(path);
          draw();
          add.focus();
        }));
        box.appendChild(entry);
      }
      if (allowed) fillSelect(keyControl, allowed.filter((k) => !(k in map)).map((k) => [k, k]), "", null);
    }
    add.addEventListener("click", () => {
      const key = keyControl.value.trim();
      if (!key || (getAt(data, path) || {})[key] !== undefined) return;
      setAt(data, [...path, key], skeleton(node.additionalProperties));
      onChange(path);
      draw();
    });
    draw();
    return group;
  }

  // top level: the pack's own scalars in one section, then one collapsible section per part
  const root = deref(schema);
  const required = root.required || [];
  const sections = [];
  const scalars = [];
  for (const [key, prop] of Object.entries(root.properties)) {
    const { node } = resolve(prop, data[key]);
    const el = render(prop, [key], { required: required.includes(key) });
    if (node.type === "object" || node.type === "array") {
      const legend = el.querySelector("legend");
      const title = legend ? legend.textContent : humanise(key);
      if (legend) legend.classList.add("visually-hidden");
      sections.push(h("details", { class: "ce-section", dataset: { section: key } }, h("summary", {}, h("span", { class: "ce-section__title" }, title),
        h("span", { class: "ce-badge", hidden: true })), el));
    } else {
      scalars.push(el);
    }
  }
  const form = h("form", { class: "ce-form", novalidate: true, onsubmit: (e) => e.preventDefault() },
    h("details", { class: "ce-section", open: true, dataset: { section: "case" } },
      h("summary", {}, h("span", { class: "ce-section__title" }, TOP_SCALARS), h("span", { class: "ce-badge", hidden: true })),
      h("div", { class: "ce-group" }, scalars)),
    sections);

  /** The element showing `path`, or its nearest shown ancestor. */
  function holderOf(path) {
    const parts = String(path).split(".");
    for (let n = parts.length; n > 0; n -= 1) {
      const el = form.querySelector(`[data-path="${CSS.escape(parts.slice(0, n).join("."))}"]`);
      if (el) return el;
    }
    return null;
  }

  function showProblems(problems) {
    for (const el of form.querySelectorAll(".ce-error")) el.remove();
    for (const el of form.querySelectorAll("[aria-invalid]")) {
      el.removeAttribute("aria-invalid");
      const ids = (el.getAttribute("aria-describedby") || "").split(" ").filter((x) => x && !x.startsWith("cferr"));
      if (ids.length) el.setAttribute("aria-describedby", ids.join(" ")); else el.removeAttribute("aria-describedby");
    }
    const perSection = {};
    for (const p of problems) {
      const holder = holderOf(p.path);
      const section = String(p.path).split(".")[0];
      const key = form.querySelector(`[data-section="${CSS.escape(section)}"]`) ? section : "case";
      perSection[key] = (perSection[key] || 0) + 1;
      if (!holder) continue;
      const errId = newId("cferr");
      const msg = h("p", { class: "ce-error", id: errId }, p.hint ? `${p.message}: ${p.hint}.` : `${p.message}.`);
      const control = holder.matches(".ce-field") ? holder.querySelector("input, textarea, select") : null;
      if (control) {
        control.setAttribute("aria-invalid", "true");
        control.setAttribute("aria-describedby", [control.getAttribute("aria-describedby"), errId].filter(Boolean).join(" "));
        holder.appendChild(msg);
      } else if (holder.tagName === "DETAILS") {
        holder.querySelector(".ce-item__body, fieldset")?.prepend(msg);
      } else {
        holder.insertBefore(msg, holder.children[1] || null);
      }
    }
    for (const sec of form.querySelectorAll("[data-section]")) {
      const n = perSection[sec.dataset.section] || 0;
      const badge = sec.querySelector(":scope > summary .ce-badge");
      badge.hidden = !n;
      badge.textContent = n ? `${n} problem${n === 1 ? "" : "s"}` : "";
    }
  }

  /** Open the sections around `path` and put focus on its control. */
  function focusPath(path) {
    const holder = holderOf(path);
    if (!holder) return false;
    for (let el = holder; el && el !== form; el = el.parentElement) if (el.tagName === "DETAILS") el.open = true;
    const control = holder.querySelector("input, textarea, select, summary") || holder;
    control.scrollIntoView({ block: "center" });
    control.focus();
    return true;
  }

  return { el: form, showProblems, focusPath };
}
