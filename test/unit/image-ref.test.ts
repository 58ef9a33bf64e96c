// One image reference everywhere (issue 13 item 4): the --image answer is what CI
// pushes (and logs in to), what compose builds and what the manifests deploy; the
// default follows the CI provider's own registry.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveAnswers } from '../../generators/app/options.js';
import { render } from '../../generators/app/render.js';

const TEMPLATES = join(import.meta.dirname, '..', '..', 'templates');

function tree(values: Record<string, unknown>): Map<string, string> {
  const answers = resolveAnswers([{ values: { name: 'img-agent', owner: 'team', ...values }, origin: (k) => k }]);
  const out = new Map<string, string>();
  for (const [p, f] of render(answers, { templatesDir: TEMPLATES, generatorVersion: '0.0.0' })) out.set(p, f.content.toString('utf8'));
  return out;
}
const imagesIn = (text: string, image: string) => text.split(image).length - 1;

describe('the image reference', () => {
  it('defaults to the CI provider registry: ghcr.io for GitHub (and no CI), registry.gitlab.com for GitLab', () => {
    expect(tree({ ci: 'github' }).get('.agent-service.json')).toContain('"image": "ghcr.io/team/img-agent"');
    expect(tree({ ci: 'none' }).get('.agent-service.json')).toContain('"image": "ghcr.io/team/img-agent"');
    const gl = tree({ ci: 'gitlab' });
    expect(gl.get('.agent-service.json')).toContain('"image": "registry.gitlab.com/team/img-agent"');
    expect(gl.get('.gitlab-ci.yml')).toContain('REGISTRY_IMAGE: registry.gitlab.com/team/img-agent\n');
    expect(gl.get('deploy/k8s/base/deployment.yaml')).toContain('image: registry.gitlab.com/team/img-agent:');
    expect(gl.get('compose.yaml')).toContain('image: registry.gitlab.com/team/img-agent:local');
  });

  it('--image on another registry with GitHub CI: pushed there, logged in there with the documented secret, never ghcr.io', () => {
    const image = 'registry.local:5000/team/agent';
    const t = tree({ ci: 'github', image });
    const ci = t.get('.github/workflows/ci.yml')!;
    expect(ci).toContain(`IMAGE: ${image}\n`);
    expect(ci).toContain('REGISTRY: registry.local:5000\n');
    expect(ci.replace(/ghcr\.io\/gitleaks\/gitleaks:\S+/, '')).not.toContain('ghcr.io'); // the gitleaks image is pulled, not pushed
    expect(ci).not.toContain('secrets.GITHUB_TOKEN');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the workflow's own ${...} expression, literally
    expect(imagesIn(ci, 'username: ${{ vars.REGISTRY_USERNAME }}')).toBe(2); // publish and verify
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the workflow's own ${...} expression, literally
    expect(imagesIn(ci, 'password: ${{ secrets.REGISTRY_PASSWORD }}')).toBe(2);
    expect(t.get('README.md')).toMatch(
      /`registry\.local:5000` is not GitHub's registry: set the repository variable\n`REGISTRY_USERNAME` and the secret `REGISTRY_PASSWORD`/,
    );
    // GHCR's clean-up workflow only for GHCR
    expect(t.has('.github/workflows/registry-cleanup.yml')).toBe(false);
    expect(t.get('deploy/k8s/base/deployment.yaml')).toContain(`image: ${image}:`);
    expect(t.get('deploy/k8s/overlays/prod/kustomization.yaml')).toContain(`- name: ${image}\n`);
  });

  it('an image without a registry host is Docker Hub (docker.io login)', () => {
    const ci = tree({ ci: 'github', image: 'team/agent' }).get('.github/workflows/ci.yml')!;
    expect(ci).toContain('REGISTRY: docker.io\n');
    expect(ci).toContain('IMAGE: team/agent\n');
  });

  it('ghcr.io: logs in with the workflow token and cleans up old images on a schedule', () => {
    const t = tree({ ci: 'github' });
    const ci = t.get('.github/workflows/ci.yml')!;
    expect(ci).toContain('REGISTRY: ghcr.io\n');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the workflow's own ${...} expression, literally
    expect(imagesIn(ci, 'password: ${{ secrets.GITHUB_TOKEN }}')).toBe(2);
    expect(t.get('.github/workflows/registry-cleanup.yml')).toContain('package: img-agent\n');
  });

  it('GitLab with an image elsewhere: REGISTRY_USER/REGISTRY_PASSWORD when the host is not $CI_REGISTRY', () => {
    const gl = tree({ ci: 'gitlab', image: 'ghcr.io/team/img-agent' }).get('.gitlab-ci.yml')!;
    expect(gl).toContain('REGISTRY_IMAGE: ghcr.io/team/img-agent\n');
    expect(gl).toContain('if [ "$registry_host" = "$CI_REGISTRY" ]; then');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the CI script's own shell expansion, literally
    expect(gl).toContain('login_user="${REGISTRY_USER:?set the CI/CD variable REGISTRY_USER for $registry_host}"');
    expect(gl).not.toContain('$CI_REGISTRY_IMAGE');
  });
});
