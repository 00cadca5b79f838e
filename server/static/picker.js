// Optional: as someone types a name or ref into a face's field, offer matching people
// from the whole register (the photo's group first). Without this script the page works
// the same: the server finds whoever the typed name or ref matches.
(function () {
  "use strict";
  var list = document.getElementById("people-list");
  if (!list || !window.fetch) {
    return;
  }
  var photo = list.getAttribute("data-photo");
  var timer = null;
  var asked = "";
  document.addEventListener("input", function (event) {
    var field = event.target;
    if (!field || field.getAttribute("list") !== "people-list") {
      return;
    }
    var typed = field.value.trim();
    if (typed.length < 2 || typed === asked || typed.indexOf(" · ") > 0) {
      return;
    }
    clearTimeout(timer);
    timer = setTimeout(function () {
      asked = typed;
      var url = "/people/picker?q=" + encodeURIComponent(typed) + (photo ? "&photo=" + photo : "");
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : { offers: [] }; })
        .then(function (found) {
          var options = found.offers.map(function (offer) {
            var option = document.createElement("option");
            option.value = offer.value;
            return option;
          });
          list.replaceChildren.apply(list, options);
          list.setAttribute("data-for", typed);
        })
        .catch(function () {});
    }, 150);
  });
})();
