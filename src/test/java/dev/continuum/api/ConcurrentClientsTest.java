package dev.continuum.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.continuum.IntegrationTest;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.OutputStream;
import java.net.Socket;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Real concurrent HTTP clients: batching keeps every request's output exact; a disconnect frees its blocks. */
@QuarkusTest
@IntegrationTest
class ConcurrentClientsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] PROMPTS = {"Once upon a time", "The little dog", "Lily and Ben", "One day",
            "The sun was", "Tom had a big", "She saw a cat", "The bird sang", "A boy named", "In the park",
            "Mom said", "The tree was tall", "He wanted to", "They played with", "The car went", "It was a sunny",
            "Sam and Sue", "The old man"};

    @TestHTTPResource("/")
    URI base;

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeEach
    void ready() {
        CompletionApiTest.awaitReady();
    }

    private HttpRequest post(String path, String body) {
        return HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(120))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    /** Every third request samples (seeded), the rest are greedy; lengths differ so sequences come and go. */
    private static String body(int i, boolean stream) {
        String sampling = i % 3 == 0 ? "\"temperature\": 0.9, \"top_p\": 0.95, \"seed\": " + (100 + i)
                : "\"temperature\": 0";
        return "{\"prompt\": \"" + PROMPTS[i] + "\", \"max_tokens\": " + (15 + 9 * i)
                + ", " + sampling + ", \"stream\": " + stream + "}";
    }

    /** A sample's value from a Prometheus scrape (label sets may end with a comma in this exposition format). */
    static double metric(String scrape, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + " ([0-9.eE+-]+)$")
                .matcher(scrape.replace(",} ", "} "));
        return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    }

    /** Steps that ran more than one sequence so far, from the step-size histogram. */
    private static double batchedSteps() {
        String scrape = given().get("/metrics").asString();
        return metric(scrape, "continuum_scheduler_step_sequences_count")
                - metric(scrape, "continuum_scheduler_step_sequences_bucket{le=\"1.0\"}");
    }

    @Test
    void concurrentRequestsEachGetTheirSoloOutput() throws Exception {
        List<String> solo = new ArrayList<>();
        for (int i = 0; i < PROMPTS.length; i++) {
            HttpResponse<String> r = http.send(post("/v1/completions", body(i, false)),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            solo.add(JSON.readTree(r.body()).get("choices").get(0).get("text").asText());
        }
        double batchedBefore = batchedSteps();
        List<CompletableFuture<HttpResponse<String>>> futures = new ArrayList<>();
        for (int i = 0; i < PROMPTS.length; i++) {
            futures.add(http.sendAsync(post("/v1/completions", body(i, i % 2 == 1)),
                    HttpResponse.BodyHandlers.ofString()));
        }
        for (int i = 0; i < PROMPTS.length; i++) {
            HttpResponse<String> r = futures.get(i).get(120, TimeUnit.SECONDS);
            assertEquals(200, r.statusCode(), r.body());
            String text = i % 2 == 1 ? Sse.text(Sse.events(r.body()), 0, false)
                    : JSON.readTree(r.body()).get("choices").get(0).get("text").asText();
            assertEquals(solo.get(i), text, "request " + i + " (" + PROMPTS[i] + ")");
        }
        assertTrue(batchedSteps() > batchedBefore + 5, "the scheduler ran steps with several sequences");
    }

    @Test
    void disconnectMidStreamFreesTheSequenceAndItsBlocks() throws Exception {
        String scrapeBefore = given().get("/metrics").asString();
        double cancelledBefore = metric(scrapeBefore, "continuum_requests_finished_total{finish_reason=\"cancelled\"}");
        String body = "{\"prompt\": \"Once upon a time\", \"max_tokens\": 480, \"ignore_eos\": true,"
                + " \"stream\": true, \"n\": 8}";
        // A raw socket, so that closing it is exactly a client going away mid-stream.
        try (Socket socket = new Socket(base.getHost(), base.getPort())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body)
                    .getBytes(StandardCharsets.UTF_8));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                    StandardCharsets.UTF_8));
            assertTrue(in.readLine().contains("200"));
            int events = 0;
            while (events < 5) {
                String line = in.readLine();
                if (line != null && line.startsWith("data: {")) {
                    JsonNode e = JSON.readTree(line.substring(6));
                    assertTrue(e.get("choices").get(0).get("finish_reason").isNull(), "still generating");
                    events++;
                }
            }
        }
        // Closing the stream closed the connection: the engine must drop all 8 choices at its next step (eight
        // sequences of 480 tokens take seconds here, so they cannot have finished on their own).
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            String s = given().get("/metrics").asString();
            assertEquals(cancelledBefore + 8,
                    metric(s, "continuum_requests_finished_total{finish_reason=\"cancelled\"}"), "cancelled choices");
            assertEquals(0.0, metric(s, "continuum_kv_cache_usage_ratio"), "KV usage");
            assertEquals(0.0, metric(s, "continuum_sequences_running"), "running");
        });
    }
}
