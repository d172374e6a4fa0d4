/**
 * What the pipeline's Review step (lib/pipeline/review-step.ts) and the change-summary script
 * (main.ts) agree on. No imports: the CDK app and the script both read it.
 */

/** Key prefix of the review files in the pipeline's artifact bucket: `reviews/<execution id>/…`. */
export const REVIEW_KEY_PREFIX = 'reviews/';

/** Files the script writes into `OUT_DIR` for the step to export as pipeline variables. */
export const REVIEW_OUTPUT_FILES = {
  /** The headline (`CHANGE_SUMMARY`). */
  headline: 'headline.txt',
  /** The console link of this execution's review files (`REVIEW_URL`). */
  url: 'url.txt',
} as const;
