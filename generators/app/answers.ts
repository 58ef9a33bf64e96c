/**
 * The answers a service is generated from. Plain, serialisable, versioned.
 * The options schema (options.ts) is the source of truth for values and defaults;
 * this type mirrors it.
 */
export interface Answers {
  name: string;
  description: string;
  owner: string;
  image: string;
  host: string;
  port: number;
  framework: 'fastapi' | 'litestar';
  observability: 'prometheus' | 'otel' | 'minimal';
  store: 'memory' | 'redis' | 'postgres';
  ci: 'github' | 'gitlab' | 'none';
  k8s: 'kustomize' | 'none';
  python: '3.11' | '3.12' | '3.13';
  replicas: number;
}

/** Python package name for a DNS-1123 service name. */
export const pythonPackage = (name: string): string => name.replace(/-/g, '_');
