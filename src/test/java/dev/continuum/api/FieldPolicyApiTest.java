package dev.continuum.api;

import dev.continuum.IntegrationTest;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Nothing is silently accepted: every field is honoured, refused with a 400 naming it, or one of the few that
 * change nothing. logit_bias, min_tokens and stop_token_ids are honoured, as the generated tokens show.
 */
@QuarkusTest
@IntegrationTest
class FieldPolicyApiTest {
    private static final String COMPLETIONS = "/v1/completions";
    private static final String CHAT = "/v1/chat/completions";
    /** Greedy, so two answers to the same question are the same text; max_tokens is each test's own. */
    private static final String PROMPT = "\"prompt\": \"Once upon a time\", \"temperature\": 0";
    private static final String MESSAGES = "\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"temperature\": 0";
    /** " Once" in stories260K's vocabulary (/tokenize of "Once upon a time" is [1, 403, 407, 261, 378]). */
    private static final int ONCE = 403;
    /** stories260K's end-of-sequence token (SentencePiece llama: 2). */
    private static final int EOS = 2;

    @BeforeEach
    void ready() {
        CompletionApiTest.awaitReady();
    }

    private static void refused(String path, String fields, String param, String message) {
        String base = path.equals(CHAT) ? MESSAGES : PROMPT;
        given().contentType(ContentType.JSON).body("{" + base + ", " + fields + "}").post(path)
                .then().statusCode(400).contentType(ContentType.JSON)
                .body("error.type", equalTo("invalid_request_error"))
                .body("error.param", equalTo(param))
                .body("error.message", containsString(message));
    }

    private static JsonPath ok(String path, String fields) {
        String base = path.equals(CHAT) ? MESSAGES : PROMPT;
        return given().contentType(ContentType.JSON).body("{" + base + ", " + fields + "}")
                .post(path).then().statusCode(200).extract().jsonPath();
    }

    @Test
    void unsupportedAndUnknownFieldsAre400NamingTheField() {
        for (String path : List.of(COMPLETIONS, CHAT)) {
            refused(path, "\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}]", "tools", "tool");
            refused(path, "\"tool_choice\": \"auto\"", "tool_choice", "tool");
            refused(path, "\"functions\": [{\"name\": \"f\"}]", "functions", "function");
            refused(path, "\"function_call\": \"auto\"", "function_call", "function");
            refused(path, "\"response_format\": {\"type\": \"json_object\"}", "response_format", "json_object");
            refused(path, "\"response_format\": {\"type\": \"json_schema\", \"json_schema\": {}}", "response_format",
                    "json_schema");
            refused(path, "\"best_of\": 3", "best_of", "best_of");
            refused(path, "\"suffix\": \" The end.\"", "suffix", "suffix");
            refused(path, "\"made_up_field\": 1", "made_up_field", "unknown field 'made_up_field'");
            refused(path, "\"stream\": true, \"stream_options\": {\"include_usage\": true, \"x\": 1}",
                    "stream_options", "stream_options.x");
        }
        refused(CHAT, "\"echo\": true", "echo", "/v1/completions");
        given().contentType(ContentType.JSON).body("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"},"
                        + " {\"role\": \"assistant\", \"content\": null, \"tool_calls\": [{\"id\": \"c1\"}]}]}")
                .post(CHAT).then().statusCode(400).body("error.param", equalTo("messages"))
                .body("error.message", containsString("messages[1].tool_calls"));
        refused(COMPLETIONS, "\"top_logprobs\": 2", "top_logprobs", "/v1/chat/completions");
    }

    @Test
    void fieldsThatChangeNothingAreAcceptedAndTypeChecked() {
        for (String path : List.of(COMPLETIONS, CHAT)) {
            ok(path, "\"max_tokens\": 4, \"user\": \"u-1\", \"metadata\": {\"k\": \"v\"}, \"store\": false, \"service_tier\": \"auto\","
                    + " \"best_of\": 1, \"response_format\": {\"type\": \"text\"}, \"tools\": null");
            refused(path, "\"store\": \"yes\"", "store", "boolean");
            refused(path, "\"metadata\": 3", "metadata", "object");
        }
        JsonPath plain = ok(COMPLETIONS, "\"max_tokens\": 8");
        JsonPath ignored = ok(COMPLETIONS, "\"max_tokens\": 8, \"user\": \"someone\", \"metadata\": {\"a\": \"b\"}, \"store\": true");
        assertEquals(plain.getString("choices[0].text"), ignored.getString("choices[0].text"));
    }

    @Test
    void logitBiasSteersGreedyDecodingAndIsValidated() {
        for (String path : List.of(COMPLETIONS, CHAT)) {
            JsonPath forced = ok(path, "\"max_tokens\": 5, \"logit_bias\": {\"" + ONCE + "\": 100}");
            String expected = given().contentType(ContentType.JSON)
                    .body("{\"tokens\": [" + ONCE + ", " + ONCE + ", " + ONCE + ", " + ONCE + ", " + ONCE + "]}")
                    .post("/detokenize").then().statusCode(200).extract().path("prompt");
            String text = path.equals(CHAT) ? forced.getString("choices[0].message.content")
                    : forced.getString("choices[0].text");
            assertEquals(expected.strip(), text.strip(), path + ": +100 on one token makes greedy pick it every time");
            refused(path, "\"logit_bias\": {\"99999\": 1}", "logit_bias", "token ids");
            refused(path, "\"logit_bias\": {\"-1\": 1}", "logit_bias", "token ids");
            refused(path, "\"logit_bias\": {\"abc\": 1}", "logit_bias", "token ids");
            refused(path, "\"logit_bias\": {\"" + ONCE + "\": 101}", "logit_bias", "[-100, 100]");
            refused(path, "\"logit_bias\": {\"" + ONCE + "\": \"high\"}", "logit_bias", "[-100, 100]");
            refused(path, "\"logit_bias\": [1]", "logit_bias", "object");
        }
    }

    @Test
    void stopTokenIdsEndTheChoiceWithoutTheirText() {
        for (String path : List.of(COMPLETIONS, CHAT)) {
            JsonPath r = ok(path, "\"max_tokens\": 8, \"logit_bias\": {\"" + ONCE + "\": 100}, \"stop_token_ids\": ["
                    + ONCE + "]");
            assertEquals("stop", r.getString("choices[0].finish_reason"), path);
            assertEquals(0, r.getInt("usage.completion_tokens"), path + ": the stop token is not output");
            refused(path, "\"stop_token_ids\": [99999]", "stop_token_ids", "token ids");
            refused(path, "\"stop_token_ids\": 5", "stop_token_ids", "array");
        }
    }

    @Test
    void minTokensHoldsOffEosStopTokensAndStopStrings() {
        for (String path : List.of(COMPLETIONS, CHAT)) {
            // The biased token would end the choice at once; min_tokens bans it for the first 6 tokens.
            JsonPath stopToken = ok(path, "\"max_tokens\": 20, \"min_tokens\": 6, \"logit_bias\": {\"" + ONCE
                    + "\": 100}, \"stop_token_ids\": [" + ONCE + "]");
            assertEquals("stop", stopToken.getString("choices[0].finish_reason"), path);
            assertEquals(6, stopToken.getInt("usage.completion_tokens"), path + ": ends on the first allowed chance");

            JsonPath eos = ok(path, "\"max_tokens\": 20, \"logit_bias\": {\"" + EOS + "\": 100}");
            assertEquals(0, eos.getInt("usage.completion_tokens"), path + ": a forced EOS ends at once");
            JsonPath heldEos = ok(path, "\"max_tokens\": 20, \"min_tokens\": 5, \"logit_bias\": {\"" + EOS + "\": 100}");
            assertEquals("stop", heldEos.getString("choices[0].finish_reason"), path);
            assertEquals(5, heldEos.getInt("usage.completion_tokens"), path + ": EOS held off for 5 tokens");

            JsonPath heldString = ok(path, "\"max_tokens\": 20, \"min_tokens\": 4, \"logit_bias\": {\"" + ONCE
                    + "\": 100}, \"stop\": [\"Once\"]");
            assertEquals("stop", heldString.getString("choices[0].finish_reason"), path);
            assertTrue(heldString.getInt("usage.completion_tokens") >= 4, path + ": stop string held off");
            refused(path, "\"max_tokens\": 3, \"min_tokens\": 4", "min_tokens", "exceeds");
            refused(path, "\"min_tokens\": -1", "min_tokens", "between");
        }
    }
}
