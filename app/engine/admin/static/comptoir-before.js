// Comptoir: runs after jQuery and select2, before sqladmin's main.js.
// Sends the CSRF token with every state-changing request and speaks French in select boxes.
(function () {
  'use strict';
  var meta = document.querySelector('meta[name="csrf-token"]');
  var token = meta ? meta.getAttribute('content') : '';
  window.comptoirCsrfToken = token;

  // jQuery requests (sqladmin's delete button) carry the header.
  if (window.jQuery) {
    jQuery.ajaxSetup({
      beforeSend: function (xhr, settings) {
        if (!/^(GET|HEAD|OPTIONS)$/i.test(settings.type || 'GET')) {
          xhr.setRequestHeader('X-CSRF-Token', token);
        }
      }
    });
  }

  // fetch() requests (sqladmin's CSV import) carry it too.
  if (window.fetch) {
    var originalFetch = window.fetch.bind(window);
    window.fetch = function (input, init) {
      init = init || {};
      var method = (init.method || (input && input.method) || 'GET').toUpperCase();
      if (['GET', 'HEAD', 'OPTIONS'].indexOf(method) === -1) {
        var headers = new Headers(init.headers || {});
        headers.set('X-CSRF-Token', token);
        init.headers = headers;
      }
      return originalFetch(input, init);
    };
  }

  // Any POST form without the hidden field gets it just before it is sent.
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!form || (form.method || '').toLowerCase() !== 'post') return;
    if (form.querySelector('input[name="csrf_token"]')) return;
    var input = document.createElement('input');
    input.type = 'hidden';
    input.name = 'csrf_token';
    input.value = token;
    form.appendChild(input);
  }, true);

  if (window.jQuery && jQuery.fn.select2) {
    jQuery.fn.select2.defaults.set('language', {
      errorLoading: function () { return 'Les résultats ne peuvent pas être chargés.'; },
      inputTooLong: function (args) { return 'Supprimez ' + (args.input.length - args.maximum) + ' caractère(s)'; },
      inputTooShort: function (args) { return 'Saisissez au moins ' + (args.minimum - args.input.length) + ' caractère(s)'; },
      loadingMore: function () { return 'Chargement de résultats supplémentaires…'; },
      maximumSelected: function (args) { return 'Vous pouvez seulement sélectionner ' + args.maximum + ' élément(s)'; },
      noResults: function () { return 'Aucun résultat'; },
      searching: function () { return 'Recherche en cours…'; },
      removeAllItems: function () { return 'Tout retirer'; },
      removeItem: function () { return 'Retirer'; },
      search: function () { return 'Rechercher'; }
    });
    jQuery.fn.select2.defaults.set('width', '100%');
  }
})();
