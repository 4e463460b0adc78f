import { useEffect, useState } from 'preact/hooks';
import { onSignedOut } from '../api.ts';
import { followLink, pathOf, useRoute } from '../router.ts';
import { forgetKey, storedKey } from '../session.ts';
import { FormPage } from './form-page.tsx';
import { FormsList } from './forms-list.tsx';
import { Notifications } from './notifications.tsx';
import { SignIn } from './sign-in.tsx';

/** The console: sign-in until a key is stored, then the routes. */
export function App() {
  const [signedIn, setSignedIn] = useState(() => storedKey() !== null);
  const route = useRoute();
  useEffect(() => onSignedOut(() => setSignedIn(false)), []);
  const signOut = () => {
    forgetKey();
    setSignedIn(false);
  };
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a href={pathOf({ name: 'forms' })} onClick={followLink} class="brand">
          formhub console
        </a>
        {signedIn && (
          <nav class="top-links">
            <a href={pathOf({ name: 'notifications' })} onClick={followLink}>
              Notifications
            </a>
            <button type="button" class="link" onClick={signOut}>
              Sign out
            </button>
          </nav>
        )}
      </header>
      {!signedIn ? (
        <SignIn onSignedIn={() => setSignedIn(true)} />
      ) : route.name === 'forms' ? (
        <FormsList />
      ) : route.name === 'notifications' ? (
        <Notifications />
      ) : route.name === 'missing' ? (
        <main id="main">
          <h1>Not found</h1>
          <p>
            This page does not exist.{' '}
            <a href={pathOf({ name: 'forms' })} onClick={followLink}>
              See the forms
            </a>
            .
          </p>
        </main>
      ) : (
        <FormPage route={route} />
      )}
    </>
  );
}
