/* The public report page: submit (public.report_submit), follow by receipt code
 * (public.report_status) and rate once closed (public.report_rate). No login. */
"use strict";

(function () {
  const call = (service, params) => SB.call("/api/v1/public/" + service, params);
  const state = { point: null, marker: null, rating: 0 };
  const map = SB.map("map", (latlng) => {
    state.point = latlng;
    if (state.marker) state.marker.remove();
    state.marker = L.circleMarker(latlng, { radius: 8, color: "#c1121f" }).addTo(map);
    SB.text("picked", "已选点 Picked " + latlng.lat.toFixed(5) + ", " + latlng.lng.toFixed(5));
  });

  call("public.categories").then((cats) => {
    const select = document.getElementById("category");
    for (const c of cats) select.appendChild(SB.el("option", { value: c.key }, c.label));
  }).catch((e) => SB.text("form-error", e.message));

  document.getElementById("report-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    SB.text("form-error", "");
    const files = Array.from(document.getElementById("photos").files || []);
    if (files.length > 3) { SB.text("form-error", "最多 3 张照片 At most 3 photos"); return; }
    if (files.some((f) => f.size > 2 * 1024 * 1024)) {
      SB.text("form-error", "每张照片不超过 2 MB Each photo at most 2 MB"); return;
    }
    const button = document.getElementById("submit");
    button.disabled = true;
    try {
      const params = {
        category: document.getElementById("category").value,
        text: document.getElementById("text").value,
        address: document.getElementById("address").value,
        phone: document.getElementById("phone").value,
        photos: await Promise.all(files.map(SB.fileParam)),
      };
      if (state.point) { params.lat = state.point.lat; params.lon = state.point.lng; }
      const r = await call("public.report_submit", params);
      SB.text("receipt-code", r.code);
      document.getElementById("code").value = r.code;
      SB.show("form-section", false);
      SB.show("receipt", true);
      lookup(r.code);
    } catch (e) {
      SB.text("form-error", e.status === 429 ? "提交过于频繁 Too many reports: " + e.message : e.message);
    } finally { button.disabled = false; }
  });

  document.getElementById("new-report").addEventListener("click", () => {
    document.getElementById("report-form").reset();
    SB.show("receipt", false);
    SB.show("form-section", true);
  });

  async function lookup(code) {
    SB.text("status-error", "");
    try {
      const s = await call("public.report_status", { code });
      SB.show("status-result", true);
      SB.text("status-label", s.status_label);
      document.getElementById("status-result").dataset.status = s.status;
      SB.text("status-meta", [s.category, s.district, "上报 " + s.received].filter(Boolean).join(" · "));
      const steps = document.getElementById("status-steps");
      steps.replaceChildren(...s.steps.map((st) => SB.el("li", {}, st.label + " — " + st.at)));
      SB.show("rate", s.can_rate);
      SB.text("rated", s.rating ? "您的评价 Your rating: " + s.rating + "/5" : "");
    } catch (e) { SB.show("status-result", false); SB.text("status-error", e.message); }
  }

  document.getElementById("status-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    lookup(document.getElementById("code").value.trim().toUpperCase());
  });

  const stars = document.getElementById("stars");
  for (let i = 1; i <= 5; i++) {
    stars.appendChild(SB.el("button", { class: "secondary", type: "button", "data-rating": String(i),
      onclick: () => {
        state.rating = i;
        for (const b of stars.children) b.className = Number(b.dataset.rating) <= i ? "" : "secondary";
        document.getElementById("rate-send").disabled = false;
      } }, "★" + i));
  }
  document.getElementById("rate-send").addEventListener("click", async () => {
    const code = document.getElementById("code").value.trim().toUpperCase();
    try {
      await call("public.report_rate", { code, rating: state.rating,
                                         note: document.getElementById("rate-note").value });
      await lookup(code);
    } catch (e) { SB.text("status-error", e.message); }
  });

  const fromUrl = new URLSearchParams(location.search).get("code");
  if (fromUrl) { document.getElementById("code").value = fromUrl; lookup(fromUrl); }
})();
