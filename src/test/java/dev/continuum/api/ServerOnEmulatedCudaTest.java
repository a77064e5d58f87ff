package dev.continuum.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.continuum.IntegrationTest;
import dev.continuum.model.ReferenceCompletionsAccess;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
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
 * The server with {@code continuum.backend=cuda} on the emulated device: the same HTTP completions, JSON and SSE,
 * as llama.cpp's reference on stories260K, and the backend named on {@code /v1/models} and in the metrics.
 */
@QuarkusTest
@TestProfile(EmulatedCudaProfile.class)
@IntegrationTest
class ServerOnEmulatedCudaTest {
    @BeforeEach
    void ready() {
        await().atMost(Duration.ofSeconds(120)).until(() -> !"loading".equals(given().get("/health").path("status")));
        Response health = given().get("/health");
        assertEquals(200, health.statusCode(), health.asString());
    }

    private static Response complete(Map<String, Object> body) {
        return given().contentType(ContentType.JSON).body(body).post("/v1/completions");
    }

    @Test
    void modelsAndMetricsNameTheCudaBackend() {
        given().get("/v1/models").then().statusCode(200)
                .body("data[0].backend", equalTo("cuda"))
                .body("data[0].device", containsString("Continuum emulated CUDA device"));
        given().get("/metrics").then().statusCode(200)
                .body(containsString("continuum_backend_info{backend=\"cuda\""));
    }

    @Test
    void greedyCompletionEqualsTheReferenceAsJsonAndAsEvents() throws Exception {
        var ref = ReferenceCompletionsAccess.stories260k().get(0);
        int tokens = Math.min(32, ref.maxTokens());
        complete(Map.of("prompt", ref.prompt(), "max_tokens", tokens, "temperature", 0))
                .then().statusCode(200)
                .body("choices[0].text", equalTo(ref.textOfFirst(tokens)));
        Response r = complete(Map.of("prompt", ref.prompt(), "max_tokens", tokens, "temperature", 0,
                "stream", true, "stream_options", Map.of("include_usage", true)));
        r.then().statusCode(200);
        List<JsonNode> events = Sse.events(r.asString());
        assertTrue(events.size() > tokens / 2, "streamed one event per token, got " + events.size());
        assertEquals(ref.textOfFirst(tokens), Sse.text(events, 0, false));
        assertEquals(tokens, events.get(events.size() - 1).get("usage").get("completion_tokens").asInt());
    }

    @Test
    void concurrentClientsGetTheirSoloCompletions() throws Exception {
        var refs = ReferenceCompletionsAccess.stories260k();
        complete(Map.of("prompt", List.of(refs.get(0).prompt(), refs.get(1).prompt(), refs.get(2).prompt()),
                "max_tokens", 24, "temperature", 0))
                .then().statusCode(200)
                .body("choices[0].text", equalTo(refs.get(0).textOfFirst(24)))
                .body("choices[1].text", equalTo(refs.get(1).textOfFirst(24)))
                .body("choices[2].text", equalTo(refs.get(2).textOfFirst(24)));
    }
}
