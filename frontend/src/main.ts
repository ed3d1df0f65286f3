import './style.css';
import { mount } from 'svelte';
import { guardNavigation, pickTransport } from './api/transport';
import Root from './ui/Root.svelte';

const root = document.getElementById('app');
if (root) {
  const transport = pickTransport();
  // Before anything renders: no link, form or drop may load another page.
  guardNavigation(window, (url) => transport.openExternal(url));
  mount(Root, { target: root, props: { transport } });
}
