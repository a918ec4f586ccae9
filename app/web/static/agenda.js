/* The agenda: FullCalendar (vendored, fr locale) fed by /admin/agenda/feed; selecting a slot
   opens the quick-creation dialog, which POSTs to /admin/agenda/quick with the CSRF header.
   Dates travel as local "YYYY-MM-DDTHH:MM" strings (timeZone 'UTC' keeps FullCalendar from
   shifting them: the server stores naive local times). */
(function () {
  "use strict";
  var element = document.getElementById("agenda-calendar");
  if (!element || !window.FullCalendar) { return; }
  var config = JSON.parse(element.dataset.config);
  var userSelect = document.getElementById("agenda-user");
  var dialog = document.getElementById("agenda-quick");
  var form = document.getElementById("agenda-quick-form");
  var errorBox = document.getElementById("quick-error");
  var message = document.getElementById("agenda-message");
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function day(d) { return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()); }
  function moment(d) { return day(d) + "T" + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()); }
  function selectedUser() { return userSelect ? userSelect.value : "all"; }

  function show(kind, text, link) {
    message.className = "alert alert-" + kind;
    message.textContent = text;
    if (link) {
      var a = document.createElement("a");
      a.href = link; a.className = "ms-2"; a.textContent = "Ouvrir la fiche";
      message.appendChild(a);
    }
  }

  var calendar = new FullCalendar.Calendar(element, {
    locale: "fr",
    timeZone: "UTC",
    initialView: config.initialView,
    initialDate: config.initialDate || undefined,
    headerToolbar: { left: "prev,next today", center: "title", right: "dayGridMonth,timeGridWeek,timeGridDay,listWeek" },
    nowIndicator: true,
    // the browser's wall-clock time, given as naive: with timeZone 'UTC' it is not shifted
    now: function () {
      var d = new Date();
      return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" +
        pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":00";
    },
    navLinks: true,
    dayMaxEvents: true,
    eventDisplay: "block",  // the type's colour as background in the month view too
    slotMinTime: "07:00:00",
    slotMaxTime: "21:00:00",
    scrollTime: "08:00:00",
    height: "auto",
    selectable: !!(config.canCreateEvent || config.canCreateTask),
    selectMirror: true,
    events: function (info, success, failure) {
      var url = config.feed + "?start=" + encodeURIComponent(moment(info.start)) +
        "&end=" + encodeURIComponent(moment(info.end)) + "&user=" + encodeURIComponent(selectedUser());
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
        .then(success)
        .catch(function (e) { show("danger", "L'agenda n'a pas pu être chargé (" + e.message + ")."); failure(e); });
    },
    eventDidMount: function (info) {
      var p = info.event.extendedProps;
      var parts = [info.event.title];
      if (p.type_label) { parts.push(p.type_label); }
      if (p.status_label) { parts.push(p.status_label); }
      if (p.account) { parts.push(p.account); }
      if (p.user) { parts.push(p.user); }
      info.el.title = parts.join(" · ");
      info.el.dataset.kind = p.kind;
      info.el.dataset.recordId = p.record_id;
    },
    select: function (info) { openQuick(info.start, info.end, info.allDay); },
  });
  calendar.render();
  window.comptoirAgenda = calendar;

  if (userSelect) {
    userSelect.addEventListener("change", function () { calendar.refetchEvents(); });
  }

  function setKind(kind) {
    form.querySelectorAll(".quick-event-only").forEach(function (el) { el.hidden = kind !== "event"; });
    form.querySelectorAll(".quick-task-only").forEach(function (el) { el.hidden = kind !== "task"; });
  }
  form.querySelectorAll('input[name="kind"]').forEach(function (radio) {
    radio.addEventListener("change", function () { setKind(radio.value); });
  });

  function openQuick(start, end, allDay) {
    form.reset();
    errorBox.classList.add("d-none");
    var canEvent = !!config.canCreateEvent, canTask = !!config.canCreateTask;
    document.getElementById("quick-kind-event").disabled = !canEvent;
    document.getElementById("quick-kind-task").disabled = !canTask;
    var kind = canEvent ? "event" : "task";
    document.getElementById(kind === "event" ? "quick-kind-event" : "quick-kind-task").checked = true;
    setKind(kind);
    var finish = end;
    if (allDay) {
      // a day clicked in the month view: 9:00-10:00 that day, unless several days were selected
      var days = Math.round((end - start) / 86400000);
      if (days <= 1) {
        start = new Date(start.getTime() + 9 * 3600000);
        finish = new Date(start.getTime() + 3600000);
      } else {
        document.getElementById("quick-all-day").checked = true;
      }
    }
    document.getElementById("quick-start").value = moment(start);
    document.getElementById("quick-end").value = moment(finish);
    document.getElementById("quick-due").value = day(start);
    var user = selectedUser();
    var userField = document.getElementById("quick-user");
    if (user !== "all" && userField.querySelector('option[value="' + user + '"]')) { userField.value = user; }
    dialog.showModal();
    document.getElementById("quick-title").focus();
  }

  document.getElementById("quick-cancel").addEventListener("click", function () {
    dialog.close();
    calendar.unselect();
  });

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var data = new FormData(form);
    var kind = data.get("kind");
    var body = { kind: kind, title: data.get("title"), assigned_user: data.get("assigned_user") || null };
    if (kind === "event") {
      body.type = data.get("type");
      body.start = data.get("start");
      body.end = data.get("end") || null;
      body.all_day = !!data.get("all_day");
    } else {
      body.due_date = data.get("due_date");
    }
    fetch(config.create, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    })
      .then(function (r) { return r.json().then(function (json) { return { ok: r.ok, json: json }; }); })
      .then(function (answer) {
        if (!answer.ok) {
          var err = answer.json.error || {};
          errorBox.textContent = (err.message || "Création refusée.").split(" / ")[0];
          errorBox.classList.remove("d-none");
          return;
        }
        dialog.close();
        calendar.unselect();
        calendar.refetchEvents();
        show("success", (kind === "event" ? "Événement créé : " : "Tâche créée : ") + body.title, answer.json.url);
      })
      .catch(function (err) {
        errorBox.textContent = "Création impossible : " + err.message;
        errorBox.classList.remove("d-none");
      });
  });
})();
