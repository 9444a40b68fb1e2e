// CLI tests run the built program (bin/saliencam.js → dist/): build once before the suite.
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
}
