package dev.continuum.api;

import dev.continuum.IntegrationTest;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;

/** /v1/models, /tokenize, /detokenize, the OpenAPI document and both metrics endpoints. */
@QuarkusTest
@IntegrationTest
class DocsAndMetricsTest {
    @BeforeEach
    void ready() {
        CompletionApiTest.awaitReady();
    }

    @Test
    void modelsListsTheServedModelWithItsLimits() {
        given().get("/v1/models").then().statusCode(200)
                .body("object", equalTo("list"))
                .body("data[0].id", equalTo("stories260K"))
                .body("data[0].object", equalTo("model"))
                .body("data[0].max_model_len", equalTo(512))
                .body("data[0].context_length", equalTo(512));
    }

    @Test
    void tokenizeAndDetokenizeRoundTrip() {
        given().contentType("application/json").body("{\"prompt\": \"Once upon a time\"}").post("/tokenize")
                .then().statusCode(200)
                .body("tokens", equalTo(java.util.List.of(1, 403, 407, 261, 378)))
                .body("count", equalTo(5));
        given().contentType("application/json").body("{\"tokens\": [403, 407, 261, 378]}").post("/detokenize")
                .then().statusCode(200).body("prompt", equalTo(" Once upon a time"));
    }

    @Test
    void openApiDocumentsTheSchemas() {
        given().get("/q/openapi?format=json").then().statusCode(200)
                .body("paths", org.hamcrest.Matchers.hasKey("/v1/completions"))
                .body("paths", org.hamcrest.Matchers.hasKey("/v1/chat/completions"))
                .body("paths", org.hamcrest.Matchers.hasKey("/v1/models"))
                .body("paths", org.hamcrest.Matchers.hasKey("/tokenize"))
                .body("components.schemas", org.hamcrest.Matchers.hasKey("CompletionRequest"))
                .body("components.schemas", org.hamcrest.Matchers.hasKey("ChatCompletionResponse"))
                .body("components.schemas", org.hamcrest.Matchers.hasKey("ErrorBody"));
        given().get("/q/swagger-ui/").then().statusCode(200);
    }

    @Test
    void prometheusMetricsOnBothPaths() {
        given().contentType("application/json").body("{\"prompt\": \"Once\", \"max_tokens\": 3}").post("/v1/completions")
                .then().statusCode(200);
        for (String path : new String[]{"/metrics", "/q/metrics"}) {
            given().get(path).then().statusCode(200)
                    .body(containsString("continuum_sequences_running"))
                    .body(containsString("continuum_requests_waiting"))
                    .body(containsString("continuum_kv_cache_usage_ratio"))
                    .body(containsString("continuum_time_to_first_token_seconds_bucket"))
                    .body(containsString("continuum_time_per_output_token_seconds_bucket"))
                    .body(containsString("continuum_e2e_request_latency_seconds_bucket"))
                    .body(containsString("continuum_request_queue_time_seconds_bucket"))
                    .body(containsString("continuum_prompt_tokens_total"))
                    .body(containsString("continuum_generation_tokens_total"))
                    .body(containsString("continuum_requests_finished_total{finish_reason=\"length\""))
                    .body(containsString("continuum_preemptions_total"))
                    .body(containsString("continuum_scheduler_step_tokens_bucket"));
        }
        String scrape = given().get("/metrics").asString();
        org.hamcrest.MatcherAssert.assertThat(scrape.length(), greaterThan(1000));
    }
}
