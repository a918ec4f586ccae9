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
      $(this).closest('tr').remove();
    });
  });
})(jQuery);
