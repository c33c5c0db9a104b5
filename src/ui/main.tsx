import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserSessionController } from '../session/controller';
import { App } from './components/App';
import { bindController, useSession } from './store';
import { UI_CONFIG } from './config';
import { readIceServers } from './preferences';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');

bindController(new BrowserSessionController({ iceServers: readIceServers }), useSession, UI_CONFIG.stateCoalesceMs);

createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
