import { useEffect, type ReactNode } from 'react';
import { ProjectorContext, useHashRoute, useProjectorMode } from '../hooks';
import { ErrorBanner } from './ErrorBanner';
import { Dashboard } from './Dashboard';
import { HostFormPage } from './HostFormPage';
import { JoinPage } from './JoinPage';
import { Landing } from './Landing';

export function App({ banner }: { banner?: ReactNode }) {
  const route = useHashRoute();
  const [projector, setProjector] = useProjectorMode();

  useEffect(() => {
    document.documentElement.classList.toggle('projector', projector);
  }, [projector]);

  // Another page opens at its top: the dashboard after the long host form would otherwise open scrolled down.
  useEffect(() => {
    window.scrollTo(0, 0);
  }, [route.page]);

  let page: ReactNode;
  switch (route.page) {
    case 'landing':
      page = <Landing />;
      break;
    case 'host':
      page = <HostFormPage />;
      break;
    case 'join':
      page = <JoinPage key={`${route.code}?${route.secret}&${route.aggregatorId}`} code={route.code} secret={route.secret} aggregatorId={route.aggregatorId} />;
      break;
    case 'session':
      page = <Dashboard />;
      break;
    case 'not-found':
      page = (
        <section className="panel narrow">
          <h2>Page not found</h2>
          <p>
            Nothing lives at <code>#{route.path}</code>. <a href="#/">Go to the start page</a>
          </p>
        </section>
      );
      break;
  }

  return (
    <ProjectorContext.Provider value={projector}>
      <div className="app">
        <header className="top-bar">
          <a className="brand" href="#/">
            fedtab
          </a>
          <span className="tagline">federated learning, one browser tab per client</span>
          <div className="projector-toggle">
            <input id="projector-mode" type="checkbox" checked={projector} onChange={(e) => setProjector(e.target.checked)} />
            <label htmlFor="projector-mode">Projector mode</label>
          </div>
        </header>
        {banner}
        <ErrorBanner />
        <main>{page}</main>
      </div>
    </ProjectorContext.Provider>
  );
}
