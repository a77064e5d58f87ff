package dev.continuum.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.continuum.IntegrationTest;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One body limit, continuum.max-request-bytes (16 MiB by default), on every route: a larger body gets 413 in
 * OpenAI's error shape (it used to be an empty 413, and /tokenize and /detokenize cut at 10 MiB instead).
 */
@QuarkusTest
@IntegrationTest
class BodyLimitTest {
    private static final long LIMIT = 16L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> ROUTES = List.of("/v1/completions", "/v1/chat/completions", "/tokenize",
            "/detokenize");

    @TestHTTPResource("/")
    URI base;

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeEach
    void ready() {
        CompletionApiTest.awaitReady();
    }

    /** A JSON object of exactly {@code size} bytes: {@code head}, then spaces (which JSON skips), then "}". */
    private static byte[] body(String head, long size) {
        byte[] b = new byte[(int) size];
        Arrays.fill(b, (byte) ' ');
        byte[] h = head.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(h, 0, b, 0, h.length);
        b[b.length - 1] = '}';
        return b;
    }

    private HttpResponse<String> post(String route, HttpRequest.BodyPublisher body) throws Exception {
        return http.send(HttpRequest.newBuilder(base.resolve(route)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json").POST(body).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void assertTooLarge(String route, HttpResponse<String> r) throws Exception {
        assertEquals(413, r.statusCode(), route + ": " + r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), route);
        JsonNode error = JSON.readTree(r.body()).get("error");
        assertEquals("invalid_request_error", error.get("type").asText(), route);
        assertEquals("request_too_large", error.get("code").asText(), route);
        assertTrue(error.get("message").asText().contains("continuum.max-request-bytes"), route + ": " + r.body());
        assertTrue(error.get("message").asText().contains(Long.toString(LIMIT)), route + ": " + r.body());
    }

    @Test
    void aBodyOverTheLimitGets413InOpenAiShapeOnEveryRoute() throws Exception {
        byte[] big = body("{\"prompt\": \"Once\", \"tokens\": [1]", LIMIT + (1 << 20));
        for (String route : ROUTES) {
            assertTooLarge(route, post(route, HttpRequest.BodyPublishers.ofByteArray(big)));
        }
        // The server keeps serving.
        HttpResponse<String> ok = post("/v1/completions",
                HttpRequest.BodyPublishers.ofString("{\"prompt\": \"Once\", \"max_tokens\": 2}"));
        assertEquals(200, ok.statusCode(), ok.body());
    }

    @Test
    void aChunkedBodyOverTheLimitGets413InOpenAiShape() throws Exception {
        byte[] big = body("{\"prompt\": \"Once\"", LIMIT + (1 << 20));
        // No Content-Length: the body handler has to count it.
        for (String route : ROUTES) {
            assertTooLarge(route, post(route,
                    HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big))));
        }
    }

    @Test
    void aBodyUnderTheLimitIsServedOnEveryRoute() throws Exception {
        long size = 11L << 20; // over the 10 MiB that /tokenize and /detokenize used to allow
        HttpResponse<String> detok = post("/detokenize",
                HttpRequest.BodyPublishers.ofByteArray(body("{\"tokens\": [300, 301]", size)));
        assertEquals(200, detok.statusCode(), detok.body());
        HttpResponse<String> tok = post("/tokenize",
                HttpRequest.BodyPublishers.ofByteArray(body("{\"prompt\": \"Once upon a time\"", size)));
        assertEquals(200, tok.statusCode(), tok.body());
        assertTrue(JSON.readTree(tok.body()).get("count").asInt() > 1, tok.body());
        HttpResponse<String> completion = post("/v1/completions",
                HttpRequest.BodyPublishers.ofByteArray(body("{\"prompt\": \"Once\", \"max_tokens\": 2", size)));
        assertEquals(200, completion.statusCode(), completion.body());
    }
}
