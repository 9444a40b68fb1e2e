// Where saliencam's own files live (web/, clips/, node_modules/ with the weights and native parts).
// In a checkout src/ and dist/ sit one level below the package root; in the offline kit (`npm run pack`)
// the esbuild bundle sits in dist/ below the kit's root, so one rule covers all three.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const APP_ROOT = fileURLToPath(new URL('../', import.meta.url));

/** A path inside the app root. */
export function appPath(...parts: string[]): string {
  return join(APP_ROOT, ...parts);
}

// Set to true by esbuild when scripts/pack.mjs bundles the kit (`define`); absent everywhere else.
declare const SALIENCAM_KIT: boolean | undefined;

/** Whether this is the bundled offline kit, whose JavaScript dependencies are inside the bundle. */
export const IN_KIT: boolean = typeof SALIENCAM_KIT !== 'undefined' && SALIENCAM_KIT === true;
