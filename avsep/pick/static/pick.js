// avsep pick: draw the boxes on the video's guide frames, see the `avsep separate` line they
// make, save them beside the video, separate and listen. Plain JavaScript, no framework: the
// server (avsep/pick/server.py) answers only requests that carry the token of the page's URL.
"use strict";

const token = new URLSearchParams(location.search).get("token") || "";
const $ = (id) => document.getElementById(id);
const COLOURS = ["#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#42d4f4", "#f032e6", "#bfef45"];
const EDGES = ["n", "s", "e", "w", "nw", "ne", "sw", "se"];
const MIN_SIZE = 4; // pixels of the video: a smaller drag is a click, not a box

// entries: what a boxes file holds, {name, box: [x0, y0, x1, y1], start, end} (null: open)
const page = { width: 0, height: 0, times: [], index: 0, entries: [], selected: -1, found: {} };

function withToken(path) {
  return `${path}?token=${encodeURIComponent(token)}`;
}

async function api(path, boxes) {
  const options = { headers: { "X-Avsep-Token": token } };
  if (boxes !== undefined) {
    options.method = "POST";
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify({ boxes });
  }
  const answer = await fetch(path, options);
  const data = await answer.json();
  if (!answer.ok) throw new Error(data.error || answer.statusText);
  return data;
}

// -- which box holds at the frame shown (the rule of a boxes file, avsep/boxes/plan.py) --------

function span(entry) {
  return [entry.start ?? -Infinity, entry.end ?? Infinity];
}

function activeAt(time) {
  const best = new Map(); // name -> [distance, index]
  page.entries.forEach((entry, index) => {
    const [start, end] = span(entry);
    const distance = start <= time && time < end ? -1 : Math.min(Math.abs(time - start), Math.abs(time - end));
    const held = best.get(entry.name);
    if (held === undefined || distance < held[0]) best.set(entry.name, [distance, index]);
  });
  return new Set([...best.values()].map(([, index]) => index));
}

function colourOf(name) {
  const names = [...new Set(page.entries.map((e) => e.name))];
  return COLOURS[names.indexOf(name) % COLOURS.length];
}

function now() {
  return page.times[page.index] ?? 0;
}

// -- the picture ---------------------------------------------------------------------------------

function fitFrame() {
  const room = $("picture").clientWidth;
  const scale = Math.min(room / page.width, (0.7 * window.innerHeight) / page.height);
  $("frame").style.width = `${Math.round(page.width * scale)}px`;
  $("frame").style.height = `${Math.round(page.height * scale)}px`;
}

function showFrame(index) {
  page.index = index;
  $("scrubber").value = String(index);
  $("time").textContent = `${now().toFixed(2)} s (frame ${index + 1} of ${page.times.length})`;
  $("frame").src = withToken(`/frame/${index}.jpg`);
  render();
}

function percent(value, total) {
  return `${(100 * value) / total}%`;
}

function drawBox(index) {
  const entry = page.entries[index];
  const [x0, y0, x1, y1] = entry.box;
  const box = document.createElement("div");
  box.className = "box" + (index === page.selected ? " selected" : "");
  box.dataset.index = String(index);
  Object.assign(box.style, {
    left: percent(x0, page.width),
    top: percent(y0, page.height),
    width: percent(x1 - x0, page.width),
    height: percent(y1 - y0, page.height),
    borderColor: colourOf(entry.name),
  });
  const tag = document.createElement("span");
  tag.className = "tag";
  tag.textContent = entry.name;
  tag.style.background = colourOf(entry.name);
  box.append(tag);
  for (const edge of EDGES) {
    const handle = document.createElement("div");
    handle.className = "handle";
    handle.dataset.edge = edge;
    box.append(handle);
  }
  return box;
}

function render() {
  const shown = activeAt(now());
  $("boxes").replaceChildren(...[...shown].map(drawBox));
  renderList(shown);
}

// -- the list of sources ---------------------------------------------------------------------

function field(cls, value, placeholder) {
  const input = document.createElement("input");
  input.className = cls;
  input.value = value ?? "";
  if (placeholder) {
    input.type = "number";
    input.step = "0.1";
    input.min = "0";
    input.placeholder = placeholder;
  }
  return input;
}

function button(cls, text, title, action) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = cls;
  b.textContent = text;
  b.title = title;
  b.addEventListener("click", action);
  return b;
}

function renderList(shown) {
  const rows = page.entries.map((entry, index) => {
    const row = document.createElement("li");
    row.className = (index === page.selected ? "selected " : "") + (shown.has(index) ? "" : "inactive");
    row.dataset.index = String(index);
    row.addEventListener("mousedown", () => select(index, false));
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = colourOf(entry.name);
    const name = field("name", entry.name);
    name.setAttribute("list", "labels");
    name.title = "the output's name: an instrument of the model's classes (it guides the box), other (the box takes what the named ones leave), or any name";
    name.addEventListener("change", () => rename(entry.name, name.value.trim()));
    const start = field("start", entry.start, "start s");
    const end = field("end", entry.end, "end s");
    for (const [input, key] of [[start, "start"], [end, "end"]]) {
      input.addEventListener("change", () => {
        entry[key] = input.value === "" ? null : Number(input.value);
        changed();
      });
    }
    const found = document.createElement("span");
    found.className = "found";
    const guess = page.found[entry.name];
    found.textContent = guess ? ` found: ${guess}` : "";
    row.append(swatch, name, " from ", start, " to ", end, " ",
      button("split", "split here", "a new time range of this source from this frame on", () => split(index)),
      button("delete", "✕", "delete this box", () => remove(index)), found);
    return row;
  });
  $("list").replaceChildren(...rows);
}

function select(index, redraw = true) {
  page.selected = index;
  if (redraw) render();
}

function rename(old, name) {
  if (!name || name === old) return render();
  for (const entry of page.entries) if (entry.name === old) entry.name = name;
  changed();
}

function remove(index) {
  page.entries.splice(index, 1);
  page.selected = -1;
  changed();
}

function split(index) {
  const entry = page.entries[index];
  const time = Number(now().toFixed(3));
  const [start, end] = span(entry);
  if (!(start < time && time < end)) {
    $("error").textContent = `split here: move to a frame inside this box's range (${time} s is not)`;
    return;
  }
  page.entries.splice(index + 1, 0, { ...entry, box: [...entry.box], start: time, end: entry.end });
  entry.end = time;
  page.selected = index + 1;
  changed();
}

function newName() {
  const names = new Set(page.entries.map((e) => e.name));
  let n = names.size + 1;
  while (names.has(`source${n}`)) n += 1;
  return `source${n}`;
}

// -- mouse: draw, move, resize -------------------------------------------------------------------

let drag = null; // {mode: "draw" | "move" | "resize", index, edge, from: [x, y], box, under}

function videoPoint(event) {
  const rect = $("boxes").getBoundingClientRect();
  const x = ((event.clientX - rect.left) / rect.width) * page.width;
  const y = ((event.clientY - rect.top) / rect.height) * page.height;
  return [Math.min(Math.max(x, 0), page.width), Math.min(Math.max(y, 0), page.height)];
}

function onDown(event) {
  if (event.button !== 0) return;
  event.preventDefault();
  const from = videoPoint(event);
  const boxNode = event.target.closest(".box");
  const index = boxNode === null ? -1 : Number(boxNode.dataset.index);
  const edge = event.target.dataset.edge;
  if (index >= 0 && (edge || index === page.selected)) {
    drag = { mode: edge ? "resize" : "move", index, edge, from, box: [...page.entries[index].box] };
    select(index);
    return;
  }
  // on the picture, or inside a box not selected (players' boxes often fill the frame): a
  // drag draws a new box, a click selects the box under the pointer
  drag = { mode: "draw", from, box: [...from, ...from], under: index };
}

function dragged(event) {
  const [x, y] = videoPoint(event);
  const [dx, dy] = [x - drag.from[0], y - drag.from[1]];
  const [x0, y0, x1, y1] = drag.box;
  if (drag.mode === "draw") return [Math.min(drag.from[0], x), Math.min(drag.from[1], y), Math.max(drag.from[0], x), Math.max(drag.from[1], y)];
  if (drag.mode === "move") {
    const mx = Math.min(Math.max(dx, -x0), page.width - x1);
    const my = Math.min(Math.max(dy, -y0), page.height - y1);
    return [x0 + mx, y0 + my, x1 + mx, y1 + my];
  }
  const edge = drag.edge;
  const box = [x0, y0, x1, y1];
  if (edge.includes("w")) box[0] = Math.min(x, x1 - MIN_SIZE);
  if (edge.includes("e")) box[2] = Math.max(x, x0 + MIN_SIZE);
  if (edge.includes("n")) box[1] = Math.min(y, y1 - MIN_SIZE);
  if (edge.includes("s")) box[3] = Math.max(y, y0 + MIN_SIZE);
  return box;
}

function onMove(event) {
  if (drag === null) return;
  const box = dragged(event).map(Math.round);
  if (drag.mode === "draw") {
    let ghost = document.querySelector(".drawing");
    if (ghost === null) {
      ghost = document.createElement("div");
      ghost.className = "drawing";
      $("boxes").append(ghost);
    }
    Object.assign(ghost.style, {
      left: percent(box[0], page.width),
      top: percent(box[1], page.height),
      width: percent(box[2] - box[0], page.width),
      height: percent(box[3] - box[1], page.height),
    });
    return;
  }
  page.entries[drag.index].box = box;
  render();
}

function onUp(event) {
  if (drag === null) return;
  const box = dragged(event).map(Math.round);
  const { mode, under } = drag;
  drag = null;
  if (mode !== "draw") return changed();
  document.querySelector(".drawing")?.remove();
  if (box[2] - box[0] < MIN_SIZE || box[3] - box[1] < MIN_SIZE) return select(under);
  page.entries.push({ name: newName(), box, start: null, end: null });
  page.selected = page.entries.length - 1;
  changed();
  document.querySelector(`#list li[data-index="${page.selected}"] input.name`)?.focus();
}

function onKey(event) {
  const typing = event.target instanceof HTMLInputElement;
  if (!typing && page.selected >= 0 && (event.key === "Delete" || event.key === "Backspace")) remove(page.selected);
}

// -- the line, Save, Separate --------------------------------------------------------------------

let lineTimer = null;

function changed() {
  render();
  clearTimeout(lineTimer);
  lineTimer = setTimeout(updateLine, 120);
}

async function updateLine() {
  if (page.entries.length === 0) {
    $("line").textContent = "";
    $("error").textContent = "draw a box around each player";
    return;
  }
  try {
    $("line").textContent = (await api("/api/line", page.entries)).line;
    $("error").textContent = "";
  } catch (error) {
    $("error").textContent = error.message;
  }
}

async function save() {
  try {
    const answer = await api("/api/save", page.entries);
    $("saved").textContent = `saved ${answer.saved}`;
    $("line").textContent = answer.line;
    $("error").textContent = "";
  } catch (error) {
    $("error").textContent = error.message;
  }
}

async function separate() {
  try {
    $("line").textContent = (await api("/api/separate", page.entries)).line;
    $("error").textContent = "";
  } catch (error) {
    $("error").textContent = error.message;
    return;
  }
  $("separate").disabled = true;
  $("stems").replaceChildren();
  $("progress").hidden = false;
  pollSeparation();
}

async function pollSeparation() {
  const job = await api("/api/progress");
  $("progress").max = Math.max(job.total, 1);
  $("progress").value = job.done;
  $("job").textContent = job.status === "running" ? `${job.what}: window ${job.done} of ${job.total}` : job.error || "";
  if (job.status === "running") {
    setTimeout(pollSeparation, 300);
    return;
  }
  $("separate").disabled = false;
  $("progress").hidden = true;
  if (job.status === "done") {
    $("job").textContent = `done: ${job.files.length} files`;
    listStems(job.files);
  }
}

function listStems(files) {
  $("stems").replaceChildren(...files.map((file) => {
    const item = document.createElement("li");
    const url = withToken(`/out/${file.split("/").map(encodeURIComponent).join("/")}`);
    const audio = document.createElement("audio");
    audio.controls = true;
    audio.preload = "metadata";
    audio.src = url;
    const link = document.createElement("a");
    link.href = url;
    link.download = file.split("/").pop();
    link.textContent = "download";
    item.append(`${file} `, link, audio);
    return item;
  }));
}

// -- start ------------------------------------------------------------------------------------

async function pollFinding() {
  const state = await api("/api/state");
  const finding = state.finding;
  if (finding.status === "running") {
    $("status").textContent = finding.total ? `${finding.what}: frame ${finding.done} of ${finding.total}` : finding.what;
    setTimeout(pollFinding, 300);
    return;
  }
  for (const source of state.found) {
    if (source.label) page.found[source.name] = `${source.label} ${source.confidence.toFixed(2)}`;
  }
  page.entries = [...state.boxes, ...page.entries];
  $("status").textContent = finding.error ? `no boxes: ${finding.error}` : state.note || state.origin;
  $("separate").disabled = false;
  changed();
}

async function start() {
  const state = await api("/api/state");
  Object.assign(page, { width: state.width, height: state.height, times: state.times });
  $("video").textContent = `${state.video} (${state.width}x${state.height}, ${state.duration} s)`;
  $("labels").replaceChildren(...state.labels.map((label) => Object.assign(document.createElement("option"), { value: label })));
  $("scrubber").max = String(state.times.length - 1);
  $("frame").addEventListener("load", () => {
    window.avsepFirstFrame ??= performance.now(); // read by benchmarks/pick_page.py
  });
  fitFrame();
  showFrame(Math.floor(state.times.length / 2));
  $("scrubber").addEventListener("input", () => showFrame(Number($("scrubber").value)));
  $("boxes").addEventListener("mousedown", onDown);
  document.addEventListener("mousemove", onMove);
  document.addEventListener("mouseup", onUp);
  document.addEventListener("keydown", onKey);
  window.addEventListener("resize", fitFrame);
  $("save").addEventListener("click", save);
  $("separate").addEventListener("click", separate);
  pollFinding();
}

start().catch((error) => {
  $("status").textContent = `cannot load: ${error.message}`;
});
