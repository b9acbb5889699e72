import axios from 'axios';
import { GATEWAY_URL, GET_TOKEN_URL } from 'dingtalk-stream';

/**
 * dingtalk-stream hard-codes the gateway URL (`https://api.dingtalk.com/v1.0/gateway/
 * connections/open`) and calls it through axios's default instance. One request interceptor
 * on that instance sends each client's gateway call to the API base configured for its
 * client id, so DINGTALK_API_BASE reaches the stream too without forking the SDK. This only
 * works while the SDK and this module share one copy of axios (npm dedupes it today).
 */
const apiBaseByClient = new Map<string, { apiBase: string; oapiBase: string }>();
let installed = false;

export function redirectGateway(clientId: string, apiBase: string, oapiBase: string): void {
  apiBaseByClient.set(clientId, { apiBase: apiBase.replace(/\/+$/, ''), oapiBase: oapiBase.replace(/\/+$/, '') });
  if (installed) return;
  installed = true;
  axios.interceptors.request.use((config) => {
    const url = config.url ?? '';
    if (url === GATEWAY_URL) {
      const data = config.data as { clientId?: unknown } | undefined;
      const target = typeof data?.clientId === 'string' ? apiBaseByClient.get(data.clientId) : undefined;
      if (target) config.url = `${target.apiBase}${new URL(GATEWAY_URL).pathname}`;
    } else if (url.startsWith(GET_TOKEN_URL)) {
      const appkey = new URL(url).searchParams.get('appkey');
      const target = appkey ? apiBaseByClient.get(appkey) : undefined;
      if (target) config.url = url.replace(new URL(GET_TOKEN_URL).origin, target.oapiBase);
    }
    return config;
  });
}

export function forgetGatewayRedirect(clientId: string): void {
  apiBaseByClient.delete(clientId);
}
