package dev.continuum.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.continuum.engine.FinishReason;
import dev.continuum.engine.GenerationRequest;
import dev.continuum.engine.InferenceEngine;
import dev.continuum.engine.QueueFullException;
import dev.continuum.engine.RequestHandle;
import dev.continuum.engine.TokenEvent;
import dev.continuum.engine.TokenSink;
import dev.continuum.tokenizer.Tokenizer;
import io.vertx.core.Context;
import io.vertx.core.http.HttpServerResponse;

import java.util.ArrayList;
import java.util.List;

/**
 * One HTTP generation call in flight: submits one engine request per prompt, then either streams every token as
 * an SSE event ({@link StreamChunks}) or collects the choices into one JSON body. Engine callbacks arrive on the
 * engine thread and are handed, a step's at a time, to the request's event loop ({@link ContextOutbox}), which
 * alone touches the response.
 */
final class GenerationCall {
    /** One prompt of the call, with the text echoed before its completion when {@code echo} is on. */
    record Prompt(int[] tokens, String echoText) {
    }

    private final ObjectMapper json;
    private final HttpServerResponse response;
    private final ResponseFormat format;
    private final GenerationParams params;
    private final Tokenizer tokenizer;
    private final String id;
    private final long created;
    private final String model;
    private final List<Prompt> prompts;
    private final RequestLimits.Deadline deadline;
    private final Choice[] choices;
    /** The streamed chunks' writer; null for a JSON response. */
    private final StreamChunks chunks;
    private final ContextOutbox outbox;
    private final List<RequestHandle> handles = new ArrayList<>();
    private int openChoices;
    private int promptTokens;
    private int completionTokens;
    private boolean ended;

    /** Per-choice accumulation (for JSON) and streaming state. */
    private static final class Choice {
        final StringBuilder text = new StringBuilder();
        ObjectNode logprobs;
        String finishReason;
        boolean started;
    }

    GenerationCall(ObjectMapper json, Context context, HttpServerResponse response, ResponseFormat format,
                   GenerationParams params, Tokenizer tokenizer, String id, String model, List<Prompt> prompts,
                   RequestLimits.Deadline deadline) {
        this.json = json;
        this.response = response;
        this.format = format;
        this.params = params;
        this.tokenizer = tokenizer;
        this.id = id;
        this.created = System.currentTimeMillis() / 1000;
        this.model = model;
        this.prompts = prompts;
        this.deadline = deadline;
        this.choices = new Choice[prompts.size() * params.n()];
        for (int i = 0; i < choices.length; i++) {
            choices[i] = new Choice();
            if (params.logprobs() >= 0) {
                choices[i].logprobs = format.newLogprobs(json);
            }
        }
        this.openChoices = choices.length;
        this.chunks = params.stream() ? new StreamChunks(format, id, created, model, params.includeUsage()) : null;
        this.outbox = ContextOutbox.of(context);
    }

    /** Submits everything; throws ApiException (nothing submitted stays running) when the queue is full. */
    void start(InferenceEngine engine, int maxModelLen) {
        response.closeHandler(v -> cancelAll());
        if (params.stream()) {
            response.setChunked(true);
            response.putHeader("Content-Type", "text/event-stream; charset=utf-8");
            response.putHeader("Cache-Control", "no-cache");
            response.putHeader("X-Accel-Buffering", "no");
        }
        try {
            for (int p = 0; p < prompts.size(); p++) {
                Prompt prompt = prompts.get(p);
                promptTokens += prompt.tokens().length;
                int maxTokens = params.maxTokens() != null ? params.maxTokens()
                        : maxModelLen - prompt.tokens().length;
                int base = p * params.n();
                if (prompt.echoText() != null) {
                    for (int c = 0; c < params.n(); c++) {
                        choices[base + c].text.append(prompt.echoText());
                    }
                }
                if (maxTokens == 0) {
                    for (int c = 0; c < params.n(); c++) {
                        finishChoice(base + c, FinishReason.LENGTH, "", 0);
                    }
                    continue;
                }
                GenerationRequest request = new GenerationRequest(id + "-" + p, prompt.tokens(), maxTokens,
                        params.sampling(), params.stop(), params.ignoreEos(), params.n(), params.logprobs(),
                        Math.min(params.minTokens(), maxTokens), params.stopTokenIds(), params.speculative());
                handles.add(engine.submit(request, new Sink(base), deadline.nanos()));
            }
        } catch (QueueFullException e) {
            cancelAll();
            throw new ApiException(429, "rate_limit_exceeded", null, "rate_limit_exceeded", e.getMessage(),
                    e.retryAfterSeconds());
        }
    }

    private void cancelAll() {
        for (RequestHandle h : handles) {
            h.cancel();
        }
    }

    /**
     * Forwards one prompt's engine callbacks, shifting choice indices, onto the response's event loop: through its
     * {@link ContextOutbox}, in order, all of a step's at once. A token goes as the engine's event itself; the rare
     * finish and error as a task.
     */
    private final class Sink implements TokenSink, ContextOutbox.Target {
        private final int base;

        Sink(int base) {
            this.base = base;
        }

        @Override
        public void onToken(TokenEvent e) {
            outbox.add(this, e);
        }

        @Override
        public void onFinish(int choice, FinishReason reason, String text, int prompt, int completion) {
            outbox.add(this, (Runnable) () -> finishChoice(base + choice, reason, text, completion));
        }

        @Override
        public void onError(String message) {
            outbox.add(this, (Runnable) () -> fail(new ErrorBody(new ErrorBody.Detail(message, "server_error", null,
                    null)), 500));
        }

        @Override
        public void onStepEnd() {
            outbox.flush();
        }

        @Override
        public void deliver(Object payload) {
            if (payload instanceof TokenEvent e) {
                token(base + e.choice(), e);
            } else {
                ((Runnable) payload).run();
            }
        }
    }

    private void token(int index, TokenEvent e) {
        if (ended) {
            return;
        }
        Choice c = choices[index];
        int offset = c.text.length();
        c.text.append(e.text());
        if (c.logprobs != null) {
            if (params.stream()) {
                writeChunk(index, e.text(), e, offset, null);
            } else {
                format.addLogprobs(json, c.logprobs, e, tokenizer, offset);
            }
        } else if (params.stream() && (!e.text().isEmpty() || !c.started)) {
            writeChunk(index, e.text(), null, 0, null);
        }
    }

    private void finishChoice(int index, FinishReason reason, String tail, int completion) {
        if (ended) {
            return;
        }
        if (reason == FinishReason.TIMEOUT) {
            // Not a finish_reason: OpenAI has none for "cut off by a deadline", and "length" would claim max_tokens.
            fail(new ErrorBody(new ErrorBody.Detail("the request ran past its timeout of "
                    + RequestLimits.format(deadline.seconds()) + " s ('timeout', at most continuum.request-timeout)"
                    + " and was stopped", "timeout", "timeout", "request_timeout")), 408);
            return;
        }
        Choice c = choices[index];
        c.text.append(tail);
        c.finishReason = reason == FinishReason.LENGTH ? "length" : "stop";
        completionTokens += completion;
        if (params.stream()) {
            writeChunk(index, tail, null, 0, c.finishReason);
        }
        if (--openChoices == 0) {
            complete();
        }
    }

    /** One chunk event; {@code logprobs} is the token's event when they are asked for (its text at textOffset). */
    private void writeChunk(int index, String text, TokenEvent logprobs, int textOffset, String finish) {
        Choice c = choices[index];
        boolean first = !c.started;
        c.started = true;
        if (first && format == ResponseFormat.COMPLETION) {
            Prompt p = prompts.get(index / params.n());
            if (p.echoText() != null) {
                text = p.echoText() + text;
            }
        }
        if (!response.closed() && !response.ended()) {
            response.write(chunks.event(index, text, logprobs, tokenizer, textOffset, finish,
                    first && format == ResponseFormat.CHAT));
        }
    }

    private void complete() {
        ended = true;
        if (params.stream()) {
            if (params.includeUsage()) {
                ObjectNode usage = format.envelope(json, id, created, model, true);
                usage.set("usage", usage());
                writeEvent(usage);
            }
            response.end("data: [DONE]\n\n");
            return;
        }
        ObjectNode body = format.envelope(json, id, created, model, false);
        for (int i = 0; i < choices.length; i++) {
            Choice c = choices[i];
            ((ArrayNode) body.get("choices")).add(format.fullChoice(json, i, c.text.toString(),
                    c.logprobs == null ? NullNode.getInstance() : c.logprobs, c.finishReason));
        }
        body.set("usage", usage());
        response.putHeader("Content-Type", "application/json");
        response.end(serialize(body));
    }

    private ObjectNode usage() {
        ObjectNode u = json.createObjectNode();
        u.put("prompt_tokens", promptTokens);
        u.put("completion_tokens", completionTokens);
        u.put("total_tokens", promptTokens + completionTokens);
        return u;
    }

    /** Ends the call with {@code error}: a final error event in a stream, else the error body with {@code status}. */
    private void fail(ErrorBody error, int status) {
        if (ended) {
            return;
        }
        ended = true;
        cancelAll();
        if (response.closed() || response.ended()) {
            return;
        }
        if (params.stream()) {
            response.write("data: " + serialize(error) + "\n\n");
            response.end("data: [DONE]\n\n");
        } else {
            response.setStatusCode(status).putHeader("Content-Type", "application/json").end(serialize(error));
        }
    }

    private void writeEvent(Object payload) {
        if (!response.closed() && !response.ended()) {
            response.write("data: " + serialize(payload) + "\n\n");
        }
    }

    private String serialize(Object o) {
        try {
            return json.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
