package dev.continuum.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.continuum.IntegrationTest;
import dev.continuum.backend.Backend;
import dev.continuum.backend.OpenedRunner;
import dev.continuum.backend.RunnerFactory;
import dev.continuum.engine.EngineConfig;
import dev.continuum.engine.FinishReason;
import dev.continuum.engine.GenerationRequest;
import dev.continuum.engine.InferenceEngine;
import dev.continuum.engine.TokenEvent;
import dev.continuum.engine.TokenSink;
import dev.continuum.loader.LoadedModel;
import dev.continuum.loader.ModelLoader;
import dev.continuum.sampling.SamplingParams;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A server configured with {@code continuum.speculative-ngram=3}: greedy completions, streamed or not, are the
 * text an engine without speculation generates on the same model; the spec-decode counters show proposals were
 * verified; {@code "speculative": false} opts a request out (same text, no proposals) and a non-boolean is refused.
 */
@QuarkusTest
@TestProfile(SpeculativeNgramProfile.class)
@IntegrationTest
class SpeculativeServeTest {
    /** Repeats itself, so prompt lookup has something to propose from the start. */
    private static final String PROMPT = "Once upon a time, there was a little girl. Once upon a time, there was a"
            + " little";
    private static final int MAX_TOKENS = 48;
    private static final String DRAFTS = "continuum_spec_decode_num_draft_tokens_total";
    private static final String ACCEPTED = "continuum_spec_decode_num_accepted_tokens_total";
    private static final String PER_POSITION = "continuum_spec_decode_num_accepted_tokens_per_pos_total";

    @BeforeEach
    void ready() {
        CompletionApiTest.awaitReady();
    }

    @Test
    void greedyTextEqualsPlainDecodingAndTheCountersShowVerification() throws Exception {
        String reference = plainDecoding(promptIds());
        assertTrue(reference.length() > 20, "a real completion to compare: '" + reference + "'");
        double draftsBefore = metric(DRAFTS);
        double acceptedBefore = metric(ACCEPTED);
        double perPositionBefore = metric(PER_POSITION);

        String json = complete(Map.of()).then().statusCode(200)
                .body("usage.completion_tokens", equalTo(MAX_TOKENS)).extract().path("choices[0].text");
        assertEquals(reference, json, "JSON");
        String body = complete(Map.of("stream", true)).then().statusCode(200).extract().asString();
        assertEquals(reference, Sse.text(Sse.events(body), 0, false), "SSE");

        double drafts = metric(DRAFTS) - draftsBefore;
        double accepted = metric(ACCEPTED) - acceptedBefore;
        assertTrue(drafts > 0, "tokens were proposed: " + drafts);
        assertTrue(accepted > 0 && accepted <= drafts, "accepted " + accepted + " of " + drafts + " proposed");
        assertEquals(accepted, metric(PER_POSITION) - perPositionBefore, "every accepted token has its position");
        String scrape = given().get("/metrics").asString();
        assertTrue(scrape.contains("continuum_spec_decode_num_drafts_total "), "drafts counter exported");
        assertTrue(scrape.contains(PER_POSITION + "{position=\"0\""), "per-position counters exported");
    }

    @Test
    void aRequestMayOptOutAndGetsTheSameTextWithoutProposals() throws Exception {
        String reference = plainDecoding(promptIds());
        double draftsBefore = metric(DRAFTS);
        String text = complete(Map.of("speculative", false)).then().statusCode(200).extract().path("choices[0].text");
        assertEquals(reference, text);
        given().contentType(ContentType.JSON).body(Map.of("messages", List.of(Map.of("role", "user", "content",
                        PROMPT)), "max_tokens", 8, "temperature", 0, "speculative", false))
                .post("/v1/chat/completions").then().statusCode(200);
        assertEquals(draftsBefore, metric(DRAFTS), "no proposals for requests that opted out");
    }

    @Test
    void theFieldIsDocumentedAndANonBooleanIs400NamingIt() {
        given().get("/q/openapi?format=json").then().statusCode(200)
                .body("components.schemas.SamplingFields.properties.speculative.type", equalTo("boolean"))
                .body("components.schemas.SamplingFields.properties.speculative.default", equalTo(true));
        for (String path : List.of("/v1/completions", "/v1/chat/completions")) {
            String base = path.endsWith("chat/completions")
                    ? "\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]" : "\"prompt\": \"hi\"";
            given().contentType(ContentType.JSON).body("{" + base + ", \"speculative\": \"yes\"}").post(path)
                    .then().statusCode(400)
                    .body("error.type", equalTo("invalid_request_error"))
                    .body("error.param", equalTo("speculative"))
                    .body("error.message", containsString("'speculative' must be a boolean"));
        }
    }

    private static io.restassured.response.Response complete(Map<String, Object> extra) {
        Map<String, Object> body = new HashMap<>(Map.of("prompt", PROMPT, "max_tokens", MAX_TOKENS, "temperature",
                0, "ignore_eos", true));
        body.putAll(extra);
        return given().contentType(ContentType.JSON).body(body).post("/v1/completions");
    }

    /** The prompt's ids as the server tokenizes a completion prompt (BOS included). */
    private static int[] promptIds() {
        List<Integer> ids = given().contentType(ContentType.JSON).body(Map.of("prompt", PROMPT)).post("/tokenize")
                .then().statusCode(200).extract().path("tokens");
        int[] out = new int[ids.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ids.get(i);
        }
        return out;
    }

    /**
     * The completion an engine without speculation generates in process, on the server's model and backend: the
     * text as the server assembles it (each token's text, then the text released at the finish).
     */
    private static String plainDecoding(int[] prompt) throws Exception {
        var config = ConfigProvider.getConfig();
        try (LoadedModel model = ModelLoader.load(config.getValue("continuum.model", String.class), null, null);
             OpenedRunner opened = RunnerFactory.open(model, Backend.parse(config.getValue("continuum.backend",
                     String.class)), 0, message -> { });
             InferenceEngine engine = new InferenceEngine(opened.runner(), model.tokenizer(),
                     new EngineConfig(1, 256, 4, 16, 16, 256), new SimpleMeterRegistry())) {
            TextSink sink = new TextSink();
            engine.submit(new GenerationRequest("reference", prompt, MAX_TOKENS, SamplingParams.GREEDY, List.of(),
                    true, 1, -1), sink);
            return sink.done.get(60, TimeUnit.SECONDS);
        }
    }

    /** The sum of a Prometheus metric's samples, over all its labels (0 while none is exported). */
    private static double metric(String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(?:\\{[^}]*\\})? (\\S+)$")
                .matcher(given().get("/metrics").then().statusCode(200).extract().asString());
        double sum = 0;
        while (m.find()) {
            sum += Double.parseDouble(m.group(1));
        }
        return sum;
    }

    /** Collects one choice's text; completes with it when the choice ends. */
    private static final class TextSink implements TokenSink {
        final StringBuilder text = new StringBuilder();
        final CompletableFuture<String> done = new CompletableFuture<>();

        @Override
        public void onToken(TokenEvent event) {
            text.append(event.text());
        }

        @Override
        public void onFinish(int choice, FinishReason reason, String tail, int promptTokens, int completionTokens) {
            done.complete(text.append(tail).toString());
        }

        @Override
        public void onError(String message) {
            done.completeExceptionally(new IllegalStateException(message));
        }
    }
}
