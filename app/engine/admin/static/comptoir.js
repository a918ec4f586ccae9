// Comptoir: runs after sqladmin's main.js. Child rows, link lookups, French messages.
(function ($) {
  'use strict';

  function initLookup(select) {
    var $select = $(select);
    if ($select.data('select2')) return;
    $select.select2({
      minimumInputLength: 1,
      allowClear: $select.data('allowBlank') === 1 || $select.data('allowBlank') === '1',
      placeholder: 'Rechercher…',
      ajax: {
        url: $select.data('url'),
        dataType: 'json',
        delay: 200,
        data: function (params) { return { term: params.term }; }
      }
    });
    if ($select.data('submitOnChange')) {
      $select.on('change', function () { this.form.submit(); });
    }
  }

  function initMulti(select) {
    var $select = $(select);
    if (!$select.data('select2')) $select.select2({ placeholder: 'Choisir…' });
  }

  function initWidgets(root) {
    $(root).find('select[data-role="comptoir-lookup"]').each(function () { initLookup(this); });
    $(root).find('select[data-role="comptoir-multi"]').each(function () { initMulti(this); });
  }

  $(function () {
    initWidgets(document);

    // The delete confirmation, in French (sqladmin writes it in English).
    $(document).on('shown.bs.modal', '#modal-delete', function (event) {
      var element = $(event.relatedTarget);
      var name = element.data('name') || '';
      var pk = element.data('pk');
      var what = pk !== undefined && pk !== '' ? name + ' n° ' + pk : 'les lignes sélectionnées';
      $('#modal-delete-text').text('Supprimer définitivement ' + what + ' ?');
    });

    // Workflow actions: the transition's confirmation text, and one submission only.
    $(document).on('submit', 'form.comptoir-action', function (event) {
      var question = this.getAttribute('data-confirm');
      if (question && !window.confirm(question)) {
        event.preventDefault();
        return;
      }
      $(this).find('button[type="submit"]').prop('disabled', true);
    });

    // Child collections: add and remove rows.
    $(document).on('click', '[data-add-child]', function () {
      var $box = $(this).closest('.comptoir-children');
      var index = parseInt($box.attr('data-next-index') || '0', 10);
      $box.attr('data-next-index', index + 1);
      var html = $box.find('template.comptoir-child-template').html().replace(/__index__/g, String(index));
      var $row = $(html);
      $box.find('tbody').first().append($row);
      initWidgets($row);
      $row.find('input, select, textarea').filter(':visible').first().trigger('focus');
    });
    $(document).on('click', '[data-remove-child]', function () {
      var form = $(this).closest('form');
      $(this).closest('tr').remove();
      form.trigger('comptoir:rows-changed');
    });

    initLiveFigures();
  });

  // Key figures recomputed while the form is typed: the form is posted (debounced; the CSRF
  // header comes from comptoir-before.js) to the preview endpoint, which answers the panel
  // drawn by the server with the same totals code as a save. Nothing is saved, nothing is
  // rounded here.
  function initLiveFigures() {
    var $panel = $('#key-figures[data-preview-url]');
    var $form = $panel.closest('form');
    if (!$panel.length || !$form.length) return;
    var url = $panel.attr('data-preview-url');
    var $status = $panel.find('.comptoir-figures-status');
    var idle = $status.text();
    var timer = null;
    var sent = 0;

    function refresh() {
      var mine = ++sent;
      $panel.addClass('comptoir-figures-busy');
      $.ajax({
        url: url,
        type: 'POST',
        data: new FormData($form[0]),
        processData: false,
        contentType: false,
        dataType: 'json'
      }).done(function (answer) {
        if (mine !== sent) return;  // a later answer is on its way
        $panel.find('.comptoir-figures-body').html(answer.html);
        var refused = Object.keys(answer.errors || {}).length;
        $status.text(refused ? 'Saisie à corriger : ' + refused + ' valeur(s) ignorée(s)' : idle);
        $panel.toggleClass('comptoir-figures-partial', refused > 0);
      }).fail(function () {
        if (mine === sent) $status.text('Totaux non recalculés (erreur de connexion)');
      }).always(function () {
        if (mine === sent) $panel.removeClass('comptoir-figures-busy');
      });
    }

    function later() {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, 300);
    }

    $form.on('input change comptoir:rows-changed', function (event) {
      if (event.target && event.target.name === 'csrf_token') return;
      later();
    });
    $form.on('click', '[data-add-child]', later);
    if ($panel.attr('data-refresh') === '1') refresh();  // a refused save: show the typed values
  }
})(jQuery);
