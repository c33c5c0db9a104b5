import { BrowserSessionController } from '../../src/session/controller';

const controller = new BrowserSessionController();
(window as unknown as { fedtab: BrowserSessionController }).fedtab = controller;
document.body.dataset.ready = 'true';
