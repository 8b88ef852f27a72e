// Kept while the gateway tests move to the shared contract (shared/src/contracts.ts).
export {
  BODY_KINDS,
  openApiPath,
  PUBLIC_ROUTES,
  type PublicRoute,
  UPSTREAMS,
  type UpstreamName,
} from '@splitstream/shared';
