import './style.css';
import { pickTransport } from './api/transport';
import { App } from './ui/app';

const root = document.getElementById('app');
if (root) {
  const app = new App(root, pickTransport());
  void app.start();
}
