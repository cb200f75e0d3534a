// Loaded only by browsers without ES modules (<script nomodule>), so plain ES5. A file,
// not an inline script: the Content-Security-Policy allows no inline script.
window.addEventListener("DOMContentLoaded", function () {
  document.getElementById("app").innerHTML = '<div class="panel notice notice--error" role="alert"><h1>This browser is too old for Bedside</h1>' +
    '<p>Open Bedside in a current version of Chrome, Edge, Firefox or Safari.</p></div>';
});
