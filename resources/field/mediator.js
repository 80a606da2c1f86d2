/* A mediator's cases: schedule sessions (one invitation link per party), record outcomes.
 * mediation.* services with the mediator's own token; they only ever show the mediator's cases. */
"use strict";

(function () {
  let token = sessionStorage.getItem("sb-mediator-token");
  const call = (service, params) => SB.call("/api/v1/call/" + service, params || {}, token);
  const el = SB.el;

  function caseCard(c) {
    const card = el("section", { "data-case": String(c.id) },
      el("h2", {}, "案件 Case " + c.id + " · " + c.category + (c.district ? " · " + c.district : "")),
      el("p", { class: "text" }, c.text),
      el("div", { class: "muted" }, c.outcome ? "结果 Outcome: " + c.outcome : "进行中 Open"));
    for (const s of c.sessions) {
      const list = el("ul", { class: "steps" });
      for (const inv of s.invites) {
        const link = location.origin + "/field/invite?code=" + inv.code;
        list.appendChild(el("li", {}, inv.party + "：", el("a", { href: link }, link),
                            inv.opened ? " ✓ 已查看 opened" : ""));
      }
      card.appendChild(el("div", { class: "muted" },
        "调解 Session " + s.at_local + " · " + s.place));
      card.appendChild(list);
    }
    if (!c.outcome) {
      const at = el("input", { type: "datetime-local", class: "at" });
      const parties = el("input", { type: "text", class: "parties",
                                    placeholder: "当事人，用逗号分隔 Parties, comma separated" });
      const err = el("div", { class: "error" });
      /* the time is the centre's local time (its zone is named), whatever the phone's zone */
      card.appendChild(el("label", {}, "安排调解 Schedule a session (" + c.zone + ")"));
      card.appendChild(at);
      card.appendChild(parties);
      card.appendChild(el("button", { class: "schedule", onclick: async () => {
        try {
          if (!at.value) throw new Error("请选择时间 Pick a time");
          await call("mediation.schedule", { mediation_id: c.id, at: at.value,
            parties: parties.value.split(/[,，]/).map((p) => p.trim()).filter(Boolean) });
          await load();
        } catch (e) { err.textContent = e.message; }
      } }, "发送邀请 Invite"));
      const agreement = el("textarea", { class: "agreement", placeholder: "协议内容 Agreement" });
      card.appendChild(el("label", {}, "结案 Close the case"));
      card.appendChild(agreement);
      const close = (outcome) => async () => {
        try { await call("mediation.outcome", { mediation_id: c.id, outcome,
                                                 agreement: agreement.value }); await load(); }
        catch (e) { err.textContent = e.message; }
      };
      card.appendChild(el("div", { class: "row" },
        el("button", { class: "success", onclick: close("success") }, "调解成功 Success"),
        el("button", { class: "secondary failed", onclick: close("failed") }, "调解失败 Failed")));
      card.appendChild(err);
    } else if (c.agreement) {
      card.appendChild(el("p", { class: "text" }, "协议 Agreement: " + c.agreement));
    }
    return card;
  }

  async function load() {
    try {
      const cases = await call("mediation.mine");
      document.getElementById("cases").replaceChildren(...cases.map(caseCard));
      if (!cases.length) document.getElementById("cases").appendChild(
        el("section", {}, "暂无案件 No cases assigned"));
      SB.text("error", "");
      document.body.dataset.loaded = String(Date.now());
    } catch (e) { SB.text("error", e.message); }
  }

  function start(user) {
    SB.show("login", false); SB.show("app", true);
    SB.text("who", user || sessionStorage.getItem("sb-mediator-user") || "");
    load();
  }

  document.getElementById("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const user = document.getElementById("account").value.trim();
    try {
      const r = await fetch("/api/v1/session", { method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ user, password: document.getElementById("password").value }) });
      const body = await r.json();
      if (!r.ok) throw new Error(body.error ? body.error.message : "HTTP " + r.status);
      if (body.role !== "mediator") throw new Error("此账号不是调解员 Not a mediator account");
      token = body.token;
      sessionStorage.setItem("sb-mediator-token", token);
      sessionStorage.setItem("sb-mediator-user", user);
      start(user);
    } catch (e) { SB.text("login-error", e.message); }
  });
  if (token) start();
})();
