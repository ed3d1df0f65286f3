import './style.css';
import { guardNavigation, pickTransport } from './api/transport';
import { App } from './ui/app';

const root = document.getElementById('app');
if (root) {
  const transport = pickTransport();
  // Before anything renders: no link, form or drop may load another page.
  guardNavigation(window, (url) => transport.openExternal(url));
  const app = new App(root, transport);
  void app.start();
}
