package dev.continuum.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.continuum.IntegrationTest;
import dev.continuum.server.ModelHost;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A request's {@code timeout} (seconds, at most continuum.request-timeout, 600 s by default): past it the request
 * stops, answering 408 with an error of type "timeout" (a final error event in a stream), and frees its KV blocks.
 */
@QuarkusTest
@IntegrationTest
class RequestTimeoutTest {
    @Inject
    ModelHost host;

    @BeforeEach
    void ready() {
        CompletionApiTest.awaitReady();
    }

    private static Response post(String path, Map<String, Object> body) {
        return given().contentType(ContentType.JSON).body(body).post(path);
    }

    private void awaitKvFree() {
        // The engine thread releases the blocks before it reports the end; this only waits for the value to be seen.
        await().atMost(Duration.ofSeconds(5)).until(() -> host.engine().kvUsage() == 0.0);
    }

    @Test
    void aCompletionPastItsTimeoutGets408WithATimeoutError() {
        post("/v1/completions", Map.of("prompt", "Once upon a time", "max_tokens", 400, "ignore_eos", true,
                "timeout", 0.001))
                .then().statusCode(408)
                .contentType(ContentType.JSON)
                .body("error.type", equalTo("timeout"))
                .body("error.param", equalTo("timeout"))
                .body("error.code", equalTo("request_timeout"))
                .body("error.message", containsString("0.001 s"));
        awaitKvFree();
    }

    @Test
    void aChatPastItsTimeoutGets408() {
        post("/v1/chat/completions", Map.of("messages", List.of(Map.of("role", "user", "content", "Hi")),
                "max_tokens", 400, "ignore_eos", true, "timeout", 0.001))
                .then().statusCode(408)
                .body("error.type", equalTo("timeout"));
        awaitKvFree();
    }

    @Test
    void aStreamPastItsTimeoutEndsWithAnErrorEvent() throws Exception {
        String body = post("/v1/completions", Map.of("prompt", "Once upon a time", "max_tokens", 400,
                "ignore_eos", true, "stream", true, "timeout", 0.001))
                .then().statusCode(200).extract().asString();
        List<JsonNode> events = Sse.events(body);
        JsonNode last = events.get(events.size() - 1);
        assertEquals("timeout", last.path("error").path("type").asText(), body);
        for (JsonNode e : events.subList(0, events.size() - 1)) {
            assertTrue(e.has("choices"), "only the last event is the error: " + e);
            JsonNode finish = e.get("choices").get(0).path("finish_reason");
            assertTrue(finish.isNull() || finish.isMissingNode(), "no choice claims a finish: " + e);
        }
        awaitKvFree();
    }

    @Test
    void aRequestWithinItsTimeoutCompletes() {
        post("/v1/completions", Map.of("prompt", "Once upon a time", "max_tokens", 8, "ignore_eos", true,
                "timeout", 60))
                .then().statusCode(200)
                .body("choices[0].finish_reason", equalTo("length"))
                .body("usage.completion_tokens", equalTo(8));
    }

    @Test
    void aTimeoutOutsideZeroToTheConfiguredMaximumIsRefused() {
        for (Object bad : List.of(0, -1, 600.5, 601, "5", true)) {
            post("/v1/completions", Map.of("prompt", "Once", "max_tokens", 2, "timeout", bad))
                    .then().statusCode(400)
                    .body("error.type", equalTo("invalid_request_error"))
                    .body("error.param", equalTo("timeout"))
                    .body("error.message", containsString("600"));
        }
    }
}
