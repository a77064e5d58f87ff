package dev.continuum.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.continuum.IntegrationTest;
import dev.continuum.SharedTestData;
import dev.continuum.model.ReferenceCompletionsAccess;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** /v1/completions over real HTTP on stories260K: greedy text equals llama.cpp's, JSON and SSE alike. */
@QuarkusTest
@IntegrationTest
class CompletionApiTest {
    static void awaitReady() {
        SharedTestData.require("models/stories260K.gguf");
        await().atMost(Duration.ofSeconds(60)).until(() -> given().get("/health").statusCode() == 200);
    }

    @BeforeEach
    void ready() {
        awaitReady();
    }

    static Response complete(Map<String, Object> body) {
        return given().contentType(ContentType.JSON).body(body).post("/v1/completions");
    }

    @Test
    void greedyCompletionsEqualTheReference() throws Exception {
        for (var ref : ReferenceCompletionsAccess.stories260k()) {
            complete(Map.of("model", "stories260K", "prompt", ref.prompt(), "max_tokens", ref.maxTokens(),
                    "temperature", 0))
                    .then().statusCode(200)
                    .body("object", equalTo("text_completion"))
                    .body("id", startsWith("cmpl-"))
                    .body("model", equalTo("stories260K"))
                    .body("choices", hasSize(1))
                    .body("choices[0].index", equalTo(0))
                    .body("choices[0].text", equalTo(ref.completionText()))
                    .body("choices[0].finish_reason", equalTo(ref.stoppedBy().equals("eos") ? "stop" : "length"))
                    .body("usage.prompt_tokens", equalTo(ref.promptIds().length))
                    .body("usage.completion_tokens", equalTo(ref.completionIds().length))
                    .body("usage.total_tokens", equalTo(ref.promptIds().length + ref.completionIds().length));
        }
    }

    @Test
    void streamedCompletionEqualsTheReferenceEventByEvent() throws Exception {
        var ref = ReferenceCompletionsAccess.stories260k().get(0);
        Response r = complete(Map.of("prompt", ref.prompt(), "max_tokens", ref.maxTokens(), "temperature", 0,
                "stream", true, "stream_options", Map.of("include_usage", true)));
        r.then().statusCode(200).contentType(startsWith("text/event-stream"));
        List<JsonNode> events = Sse.events(r.asString());
        assertTrue(events.size() > 50, "one event per token, got " + events.size());
        String id = events.get(0).get("id").asText();
        for (int i = 0; i < events.size() - 1; i++) {
            JsonNode e = events.get(i);
            assertEquals(id, e.get("id").asText());
            assertEquals("text_completion", e.get("object").asText());
            JsonNode choice = e.get("choices").get(0);
            boolean last = i == events.size() - 2;
            assertEquals(last ? "length" : null, choice.get("finish_reason").isNull() ? null
                    : choice.get("finish_reason").asText(), "only the last choice chunk has a finish_reason");
        }
        assertEquals(ref.completionText(), Sse.text(events, 0, false));
        JsonNode usage = events.get(events.size() - 1);
        assertEquals(0, usage.get("choices").size());
        assertEquals(ref.completionIds().length, usage.get("usage").get("completion_tokens").asInt());
    }

    @Test
    void tokenIdPromptsAndMultiplePrompts() throws Exception {
        var refs = ReferenceCompletionsAccess.stories260k();
        complete(Map.of("prompt", refs.get(0).promptIds(), "max_tokens", 30, "temperature", 0))
                .then().statusCode(200)
                .body("choices[0].text", equalTo(refs.get(0).textOfFirst(30)));
        complete(Map.of("prompt", List.of(refs.get(0).prompt(), refs.get(2).prompt()), "max_tokens", 30,
                "temperature", 0))
                .then().statusCode(200)
                .body("choices", hasSize(2))
                .body("choices[0].text", equalTo(refs.get(0).textOfFirst(30)))
                .body("choices[1].index", equalTo(1))
                .body("choices[1].text", equalTo(refs.get(2).textOfFirst(30)));
    }

    @Test
    void echoStopAndLogprobs() throws Exception {
        var ref = ReferenceCompletionsAccess.stories260k().get(0);
        complete(Map.of("prompt", ref.prompt(), "max_tokens", 30, "temperature", 0, "echo", true))
                .then().statusCode(200)
                .body("choices[0].text", equalTo(ref.prompt() + ref.textOfFirst(30)));
        String full = ref.textOfFirst(30);
        complete(Map.of("prompt", ref.prompt(), "max_tokens", 30, "temperature", 0, "stop", List.of("Lily", "dog")))
                .then().statusCode(200)
                .body("choices[0].text", equalTo(full.substring(0, full.indexOf("Lily"))))
                .body("choices[0].finish_reason", equalTo("stop"));
        Response r = complete(Map.of("prompt", ref.prompt(), "max_tokens", 5, "temperature", 0, "logprobs", 3));
        r.then().statusCode(200)
                .body("choices[0].logprobs.tokens", hasSize(5))
                .body("choices[0].logprobs.token_logprobs", hasSize(5))
                .body("choices[0].logprobs.top_logprobs", hasSize(5))
                .body("choices[0].logprobs.text_offset[0]", equalTo(0));
        List<Float> lps = r.path("choices[0].logprobs.token_logprobs");
        Map<String, Float> top = r.path("choices[0].logprobs.top_logprobs[0]");
        assertEquals(3, top.size());
        assertEquals(top.values().stream().max(Float::compare).orElseThrow(), lps.get(0), 1e-5,
                "greedy picks the most likely token");
        assertTrue(lps.get(0) <= 0);
    }

    /**
     * max_tokens 0 (legacy completions allow it, with echo to read the prompt back) is answered by the HTTP layer:
     * the engine refuses a request for 0 tokens, so none may reach it.
     */
    @Test
    void zeroMaxTokensEchoesThePromptAndEndsWithLength() throws Exception {
        var ref = ReferenceCompletionsAccess.stories260k().get(0);
        complete(Map.of("prompt", ref.prompt(), "max_tokens", 0, "echo", true, "n", 2))
                .then().statusCode(200)
                .body("choices", hasSize(2))
                .body("choices[0].text", equalTo(ref.prompt()))
                .body("choices[1].text", equalTo(ref.prompt()))
                .body("choices[0].finish_reason", equalTo("length"))
                .body("choices[1].finish_reason", equalTo("length"))
                .body("usage.prompt_tokens", equalTo(ref.promptIds().length))
                .body("usage.completion_tokens", equalTo(0));
        List<JsonNode> events = Sse.events(complete(Map.of("prompt", ref.prompt(), "max_tokens", 0, "stream", true))
                .then().statusCode(200).extract().asString());
        JsonNode last = events.get(events.size() - 1).get("choices").get(0);
        assertEquals("", last.get("text").asText());
        assertEquals("length", last.get("finish_reason").asText());
    }

    @Test
    void seededSamplingIsReproducibleAndChoicesDiffer() {
        Map<String, Object> body = Map.of("prompt", "Once upon a time", "max_tokens", 40, "temperature", 1.0,
                "top_p", 0.95, "seed", 7, "n", 2);
        Response a = complete(body);
        Response b = complete(body);
        a.then().statusCode(200).body("choices", hasSize(2));
        assertEquals(a.path("choices[0].text").toString(), b.path("choices[0].text").toString());
        assertEquals(a.path("choices[1].text").toString(), b.path("choices[1].text").toString());
        assertNotEquals(a.path("choices[0].text").toString(), a.path("choices[1].text").toString());
    }
}
