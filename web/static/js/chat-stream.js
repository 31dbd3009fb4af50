/* Asking with a streamed answer: POST /api/v1/ask with stream:true, read as Server-Sent Events
 * through fetch + ReadableStream (EventSource cannot POST).
 *
 * The server sends `status` events ({text}: searching, writing, checking) while the answer is made,
 * `token` events ({text}) once it has been checked, then `sources` (the full AskResponse, whose
 * `answer` is authoritative), then `done`; or `error`. Aborting the signal
 * stops the fetch; the server then stops generating and frees the model.
 */
import { checkResponse, headers } from "./common.js";

async function* serverSentEvents(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const raw = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "");
      let name = "message";
      const data = [];
      for (const line of raw.split(/\r?\n/)) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      yield { name, data: data.length ? JSON.parse(data.join("\n")) : {} };
    }
  }
}

/* The events of one streamed answer, as {name, data}. Throws AbortError when stopped, ApiError when refused,
 * and an Error saying when to try again when the answer queue is full (503). */
export async function* askStreaming(question, conversationId, signal) {
  const body = { question, stream: true };
  if (conversationId) body.conversation_id = conversationId;
  const response = await fetch("/api/v1/ask", {
    method: "POST",
    credentials: "same-origin",
    headers: headers({ "Content-Type": "application/json", Accept: "text/event-stream" }),
    body: JSON.stringify(body),
    signal,
  });
  if (response.status === 503) {
    const wait = response.headers.get("Retry-After");
    throw new Error("Enclave is busy answering other questions." + (wait ? " Try again in " + wait + " seconds." : " Try again shortly."));
  }
  await checkResponse(response);
  yield* serverSentEvents(response);
}
