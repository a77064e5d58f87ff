package dev.continuum.api;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.continuum.chat.ChatTemplate;
import dev.continuum.engine.InferenceEngine;
import dev.continuum.loader.LoadedModel;
import dev.continuum.server.ModelHost;
import dev.continuum.tokenizer.Tokenizer;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.util.List;
import java.util.UUID;

/**
 * {@code POST /v1/completions} and {@code POST /v1/chat/completions} on the Vert.x router, so one path can answer
 * either a JSON body or an SSE stream depending on {@code stream}; plus {@code GET /metrics} for Prometheus.
 * Requests are parsed and validated here completely: nothing of a bad request reaches the engine. That work
 * (parsing, templating, tokenizing) runs on {@link BlockingWork}'s pool, never on the event loop: a prompt of
 * megabytes takes seconds to tokenize, and the loop serves every other connection meanwhile.
 */
@ApplicationScoped
public class OpenAiRoutes {
    private static final Logger LOG = Logger.getLogger(OpenAiRoutes.class);

    private final ModelHost host;
    private final ObjectMapper json;
    private final PrometheusMeterRegistry prometheus;
    private volatile ChatTemplate chatTemplate;
    private volatile PromptBound promptBound;
    @Inject
    RequestLimits limits;
    @Inject
    BlockingWork blockingWork;

    public OpenAiRoutes(ModelHost host, ObjectMapper json, PrometheusMeterRegistry prometheus) {
        this.host = host;
        this.json = json;
        this.prometheus = prometheus;
    }

    void register(@Observes Router router) {
        BodyHandler body = limits.bodyHandler();
        router.post("/v1/completions").order(-10).handler(body).handler(rc -> handle(rc, ResponseFormat.COMPLETION))
                .failureHandler(limits::onFailure);
        router.post("/v1/chat/completions").order(-10).handler(body).handler(rc -> handle(rc, ResponseFormat.CHAT))
                .failureHandler(limits::onFailure);
        router.route("/v1/completions").order(-9).handler(this::methodNotAllowed);
        router.route("/v1/chat/completions").order(-9).handler(this::methodNotAllowed);
        router.get("/metrics").order(-10).handler(rc -> rc.response()
                .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                .end(prometheus.scrape()));
    }

    /** A validated call, ready to submit from the request's context. */
    private record Prepared(GenerationCall call, InferenceEngine engine, int maxModelLen) {
    }

    /** On the event loop: the request's preparation goes to the blocking pool; its start comes back here. */
    private void handle(RoutingContext rc, ResponseFormat format) {
        long arrivalNanos = System.nanoTime();
        Context context = Vertx.currentContext();
        blockingWork.run(context, () -> prepare(rc, format, context, arrivalNanos), p -> start(rc, p),
                failure -> failed(rc, failure));
    }

    private void start(RoutingContext rc, Prepared p) {
        if (rc.response().closed()) {
            return; // the client left while its prompt was being prepared
        }
        try {
            p.call().start(p.engine(), p.maxModelLen());
        } catch (ApiException e) {
            writeError(rc, e);
        }
    }

    private void failed(RoutingContext rc, Throwable failure) {
        if (failure instanceof ApiException e) {
            writeError(rc, e);
            return;
        }
        LOG.error("preparing a request failed", failure);
        writeError(rc, new ApiException(500, "server_error", null, null, "internal error: " + failure));
    }

    /** On a worker thread: everything up to the engine submission, throwing ApiException for a bad request. */
    private Prepared prepare(RoutingContext rc, ResponseFormat format, Context context, long arrivalNanos) {
        if (host.state() != ModelHost.State.READY) {
            throw ApiException.notReady(host);
        }
        LoadedModel model = host.model();
        InferenceEngine engine = host.engine();
        Tokenizer tok = model.tokenizer();
        JsonFields fields = new JsonFields(parse(rc));
        GenerationParams params = GenerationParams.parse(fields, host.config().maxN(), format == ResponseFormat.CHAT,
                tok.vocabSize());
        RequestLimits.Deadline deadline = limits.deadline(fields, arrivalNanos);
        if (params.model() != null && !params.model().equals(host.servedName())) {
            throw ApiException.modelNotFound(params.model(), host.servedName());
        }
        if (format == ResponseFormat.COMPLETION) {
            promptBound(tok).checkCompletion(fields, engine.config().maxModelLen());
        }
        List<GenerationCall.Prompt> prompts = format == ResponseFormat.COMPLETION
                ? PromptParser.completion(fields, tok, params.echo())
                : List.of(PromptParser.chat(fields, tok, chatTemplate(model), promptBound(tok),
                        engine.config().maxModelLen()));
        int maxModelLen = engine.config().maxModelLen();
        int choices = prompts.size() * params.n();
        if (choices > host.config().maxN()) {
            throw ApiException.invalid("n", "prompts x n = " + choices + " choices; at most " + host.config().maxN());
        }
        for (GenerationCall.Prompt p : prompts) {
            int room = maxModelLen - p.tokens().length;
            String param = format == ResponseFormat.CHAT ? "messages" : "prompt";
            if (room < 1) {
                throw ApiException.invalid(param, "the prompt has " + p.tokens().length
                        + " tokens; the maximum context length is " + maxModelLen);
            }
            if (params.maxTokens() != null && params.maxTokens() > room) {
                throw ApiException.invalid("max_tokens", "the prompt (" + p.tokens().length + " tokens) plus "
                        + "max_tokens (" + params.maxTokens() + ") exceeds the maximum context length "
                        + maxModelLen);
            }
        }
        String id = (format == ResponseFormat.CHAT ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
        GenerationCall call = new GenerationCall(json, context, rc.response(), format, params, tok, id,
                host.servedName(), prompts, deadline);
        return new Prepared(call, engine, maxModelLen);
    }

    private PromptBound promptBound(Tokenizer tok) {
        PromptBound b = promptBound;
        if (b == null || b.tokenizer() != tok) {
            b = new PromptBound(tok);
            promptBound = b;
        }
        return b;
    }

    /** The body as JSON text, strictly (see {@link JsonBody}); the media type is checked first (415). */
    private JsonNode parse(RoutingContext rc) {
        JsonBody.checkContentType(rc.request().getHeader("Content-Type"));
        return JsonBody.parse(rc.body() == null || rc.body().buffer() == null ? null : rc.body().buffer().getBytes(),
                json);
    }

    /** Any other method on a POST route: 405 with Allow, in OpenAI's error shape (not the router's 404). */
    private void methodNotAllowed(RoutingContext rc) {
        rc.response().putHeader("Allow", "POST");
        writeError(rc, new ApiException(405, "invalid_request_error", null, "method_not_allowed",
                rc.request().method() + " is not allowed on " + rc.normalizedPath() + "; use POST"));
    }

    private ChatTemplate chatTemplate(LoadedModel model) {
        ChatTemplate t = chatTemplate;
        if (t == null) {
            Tokenizer tok = model.tokenizer();
            t = ChatTemplate.of(model.chatTemplate(), tok.bosId() >= 0 ? tok.piece(tok.bosId()) : "",
                    tok.eosId() >= 0 ? tok.piece(tok.eosId()) : "");
            chatTemplate = t;
        }
        return t;
    }

    private void writeError(RoutingContext rc, ApiException e) {
        ErrorResponses.write(rc.response(), e, json);
    }
}
