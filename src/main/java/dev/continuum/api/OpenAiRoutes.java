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
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import java.util.List;
import java.util.UUID;

/**
 * {@code POST /v1/completions} and {@code POST /v1/chat/completions} on the Vert.x router, so one path can answer
 * either a JSON body or an SSE stream depending on {@code stream}; plus {@code GET /metrics} for Prometheus.
 * Requests are parsed and validated here completely: nothing of a bad request reaches the engine.
 */
@ApplicationScoped
public class OpenAiRoutes {
    private static final long MAX_BODY_BYTES = 16L << 20;

    private final ModelHost host;
    private final ObjectMapper json;
    private final PrometheusMeterRegistry prometheus;
    private volatile ChatTemplate chatTemplate;

    public OpenAiRoutes(ModelHost host, ObjectMapper json, PrometheusMeterRegistry prometheus) {
        this.host = host;
        this.json = json;
        this.prometheus = prometheus;
    }

    void register(@Observes Router router) {
        BodyHandler body = BodyHandler.create().setBodyLimit(MAX_BODY_BYTES);
        router.post("/v1/completions").order(-10).handler(body).handler(rc -> handle(rc, ResponseFormat.COMPLETION));
        router.post("/v1/chat/completions").order(-10).handler(body).handler(rc -> handle(rc, ResponseFormat.CHAT));
        router.route("/v1/completions").order(-9).handler(this::methodNotAllowed);
        router.route("/v1/chat/completions").order(-9).handler(this::methodNotAllowed);
        router.get("/metrics").order(-10).handler(rc -> rc.response()
                .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                .end(prometheus.scrape()));
    }

    private void handle(RoutingContext rc, ResponseFormat format) {
        try {
            if (host.state() != ModelHost.State.READY) {
                throw ApiException.notReady(host);
            }
            LoadedModel model = host.model();
            InferenceEngine engine = host.engine();
            Tokenizer tok = model.tokenizer();
            JsonFields fields = new JsonFields(parse(rc));
            GenerationParams params = GenerationParams.parse(fields, host.config().maxN(), format == ResponseFormat.CHAT,
                    tok.vocabSize());
            if (params.model() != null && !params.model().equals(host.servedName())) {
                throw ApiException.modelNotFound(params.model(), host.servedName());
            }
            List<GenerationCall.Prompt> prompts = format == ResponseFormat.COMPLETION
                    ? PromptParser.completion(fields, tok, params.echo())
                    : List.of(PromptParser.chat(fields, tok, chatTemplate(model)));
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
            GenerationCall call = new GenerationCall(json, Vertx.currentContext(), rc.response(), format, params, tok, id,
                    host.servedName(), prompts);
            call.start(engine, maxModelLen);
        } catch (ApiException e) {
            writeError(rc, e);
        }
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
        var response = rc.response().setStatusCode(e.status()).putHeader("Content-Type", "application/json");
        if (e.status() == 429 || e.status() == 503) {
            response.putHeader("Retry-After", "1");
        }
        try {
            response.end(json.writeValueAsString(e.body()));
        } catch (JacksonException ex) {
            response.end("{\"error\":{\"message\":\"internal error\",\"type\":\"server_error\"}}");
        }
    }
}
