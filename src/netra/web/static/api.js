// HTTP: one `http()` call that speaks PROTOCOL.md's error shape, and `Api`, the calls the
// page makes with the signed-in user's access token (refreshed and retried once on 401).

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

const OFFLINE = 'The server cannot be reached. Check your connection and try again.';

// Asks a server that supports it to keep the refresh token in an httpOnly cookie
// (docs/security.md); a server that does not ignores it.
export const REFRESH_MODE_HEADER = { 'X-Netra-Refresh': 'cookie' };

export async function http(method, path, { body, token, headers, signal } = {}) {
  const init = { method, headers: { Accept: 'application/json', ...headers }, signal };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (token) init.headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, 'network', OFFLINE);
  }
  return readResponse(response.status, response.statusText, await response.text());
}

function readResponse(status, statusText, text) {
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (status >= 200 && status < 300) return data;
  const error = (data && data.error) || {};
  throw new ApiError(
    status,
    error.code || `http_${status}`,
    error.message || statusText || `The server answered ${status}.`,
    error.details,
  );
}

export class Api {
  constructor(session) {
    this.session = session;
  }

  async call(method, path, body) {
    const token = await this.session.accessToken();
    try {
      return await http(method, path, { body, token });
    } catch (error) {
      if (error.status !== 401) throw error;
      await this.session.refresh(); // throws (and signs out) when the session is over
      return http(method, path, { body, token: await this.session.accessToken() });
    }
  }

  threads() {
    return this.call('GET', '/api/threads');
  }

  thread(id) {
    return this.call('GET', `/api/threads/${encodeURIComponent(id)}`);
  }

  deleteThread(id) {
    return this.call('DELETE', `/api/threads/${encodeURIComponent(id)}`);
  }

  messages(threadId) {
    return this.call('GET', `/api/threads/${encodeURIComponent(threadId)}/messages`);
  }

  createThread(title) {
    return this.call('POST', '/api/threads', title ? { title } : {});
  }

  startRun(threadId, message, datasetId) {
    const body = { message };
    if (datasetId) body.dataset_id = datasetId;
    return this.call('POST', `/api/threads/${encodeURIComponent(threadId)}/runs`, body);
  }

  run(id) {
    return this.call('GET', `/api/runs/${encodeURIComponent(id)}`);
  }

  events(id, afterSeq = 0) {
    return this.call('GET', `/api/runs/${encodeURIComponent(id)}/events?after_seq=${afterSeq}`);
  }

  cancel(id) {
    return this.call('POST', `/api/runs/${encodeURIComponent(id)}/cancel`);
  }

  report(runId) {
    return this.call('GET', `/api/runs/${encodeURIComponent(runId)}/report`);
  }

  async reportMarkdown(runId) {
    const token = await this.session.accessToken();
    const response = await fetch(`/api/runs/${encodeURIComponent(runId)}/report?format=md`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    if (!response.ok) throw new ApiError(response.status, 'http', 'The report could not be downloaded.');
    return response.text();
  }

  datasets() {
    return this.call('GET', '/api/datasets');
  }

  demo(options = {}) {
    return this.call('POST', '/api/datasets/demo', options);
  }

  // Multipart upload through XMLHttpRequest, the one browser API that reports upload
  // progress. `onProgress(loaded, total)`; resolves to the Dataset.
  async upload(file, onProgress, { retried = false } = {}) {
    const token = await this.session.accessToken();
    try {
      return await sendFile(file, token, onProgress);
    } catch (error) {
      if (error.status !== 401 || retried) throw error;
      await this.session.refresh();
      return this.upload(file, onProgress, { retried: true });
    }
  }
}

function sendFile(file, token, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    form.append('name', file.name);
    form.append('file', file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/datasets');
    xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    });
    xhr.addEventListener('load', () => {
      try {
        resolve(readResponse(xhr.status, xhr.statusText, xhr.responseText));
      } catch (error) {
        reject(error);
      }
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, 'network', OFFLINE)));
    xhr.addEventListener('abort', () => reject(new ApiError(0, 'aborted', 'The upload was cancelled.')));
    xhr.send(form);
  });
}
