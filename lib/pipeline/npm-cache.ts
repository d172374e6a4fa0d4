/** npm's cache directory in the CodeBuild image (root's home), kept by a local custom cache. */
export const NPM_CACHE_PATHS = '/root/.npm/**/*';
