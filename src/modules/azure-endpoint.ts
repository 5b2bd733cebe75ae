/**
 * The `url` of an Azure OpenAI model (`azure-openai`). Ax builds Azure's endpoint from a resource, a deployment and
 * an api-version, settings `createLanguageModel` does not take, so the url is the only way to name them, in one of
 * the two forms Azure serves chat completions at:
 * - a deployment: `https://<resource>.openai.azure.com/openai/deployments/<deployment>?api-version=<version>`;
 * - the v1 API: `https://<resource>.openai.azure.com/openai/v1` (the deployment is then the `model`, required).
 * Anything else is refused when the model is built: the resource endpoint the Azure portal shows
 * (`https://<resource>.openai.azure.com/`) would send every request to `/chat/completions`, and the "target URI" it
 * shows to `…/chat/completions/chat/completions`, where Azure answers 404 at every execution. So is the v1 API
 * without a model: Ax would send its own default model name as the deployment, which no one named, to the same 404.
 * @module
 */
import { ValidationError } from '../errors.js';
import type { ConfigNames } from './language-model.js';

/** The two forms of the url, as the errors show them. */
export const AZURE_URL_FORMS =
  'https://<resource>.openai.azure.com/openai/deployments/<deployment>?api-version=<version>, ' +
  'or https://<resource>.openai.azure.com/openai/v1';

/** A deployment's path, after whatever prefix a gateway in front of Azure adds. */
const DEPLOYMENT_PATH = /\/openai\/deployments\/[^/]+\/?$/;

/** The v1 API's path, after any prefix alike. */
const V1_PATH = /\/openai\/v1\/?$/;

/**
 * Throws a `ValidationError` naming the url's setting (`names.url`) unless `url` (already checked to be an http or
 * https URL) is one of {@link AZURE_URL_FORMS}, or naming the model's (`names.model`) when `url` is the v1 API's and
 * `model` is not set. Only the path is quoted: the rest of a URL may carry a secret.
 */
export function assertAzureURL(url: string | undefined, model: string | undefined, names: ConfigNames): void {
  const setting = names.url;
  const refuse = (why: string): never => {
    throw new ValidationError(`${setting} ${why}; provider 'azure-openai' takes ${AZURE_URL_FORMS}`, {
      variable: setting,
      details: { field: setting, provider: 'azure-openai' },
    });
  };
  if (url === undefined || url === '') return refuse('is not set');
  const { pathname, searchParams } = new URL(url);
  if (V1_PATH.test(pathname)) {
    if (model) return;
    throw new ValidationError(
      `${names.model} is not set; provider 'azure-openai' at the v1 API's url (…/openai/v1) sends the model as the ` +
        'deployment, so name the deployment to use',
      { variable: names.model, details: { field: names.model, provider: 'azure-openai' } },
    );
  }
  if (!DEPLOYMENT_PATH.test(pathname)) return refuse(`has the path '${pathname}', where Azure has no chat completions`);
  if (!searchParams.get('api-version')) refuse('names a deployment without its api-version (?api-version=…)');
}
