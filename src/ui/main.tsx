import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserSessionController } from '../session/controller';
import { App } from './components/App';
import { bindController } from './store';
import { readIceServers } from './preferences';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');

bindController(new BrowserSessionController({ iceServers: readIceServers }));

createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
