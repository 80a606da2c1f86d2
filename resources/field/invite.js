/* A party's invitation link: shows when and where the mediation session is. */
"use strict";

(function () {
  const code = (new URLSearchParams(location.search).get("code") || "").trim().toUpperCase();
  SB.call("/api/v1/public/public.invite", { code }).then((r) => {
    SB.text("party", "您好 Dear " + r.party);
    SB.text("at", r.at);
    SB.text("place", r.place);
    SB.text("closed", r.closed ? "此案调解已结束 This mediation has been closed" : "");
    document.body.dataset.loaded = "1";
  }).catch((e) => { SB.text("error", e.message); document.body.dataset.loaded = "error"; });
})();
