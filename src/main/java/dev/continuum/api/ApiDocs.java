package dev.continuum.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.util.List;

/** Request and response bodies of the JSON endpoints, as records so the OpenAPI document describes them. */
public final class ApiDocs {
    private ApiDocs() {
    }

    @Schema(description = "Text to tokenize with the served model's tokenizer")
    public record TokenizeRequest(
            @Schema(description = "Served model name (optional)") String model,
            @Schema(description = "Text to tokenize", required = true) String prompt,
            @JsonProperty("add_special_tokens") @Schema(description = "Add BOS as for a prompt (default true)")
            Boolean addSpecialTokens) {
    }

    @Schema(description = "Token ids of the text")
    public record TokenizeResponse(int count, @JsonProperty("max_model_len") int maxModelLen, int[] tokens) {
    }

    @Schema(description = "Token ids to turn back into text")
    public record DetokenizeRequest(String model, @Schema(required = true) int[] tokens) {
    }

    @Schema(description = "The text of the tokens")
    public record DetokenizeResponse(String prompt) {
    }

    @Schema(description = "A served model and its limits")
    public record ModelCard(String id, String object, long created, @JsonProperty("owned_by") String ownedBy,
                            @JsonProperty("max_model_len") int maxModelLen,
                            @JsonProperty("context_length") int contextLength,
                            @JsonProperty("max_num_seqs") int maxNumSeqs,
                            @JsonProperty("max_n") int maxN,
                            @JsonProperty("vocab_size") int vocabSize,
                            String description,
                            @Schema(description = "What runs the model: cpu or cuda") String backend,
                            @Schema(description = "The device in words, e.g. cuda:0 NVIDIA H200 (compute 9.0, 132 SMs)")
                            String device) {
    }

    @Schema(description = "The list of served models")
    public record ModelList(String object, List<ModelCard> data) {
    }
}
