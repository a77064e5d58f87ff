package dev.continuum.tokenizer;
public final class TokenizerLoader { public static Tokenizer fromGguf(dev.continuum.loader.GgufMetadata md) { return new ByteLevelTokenizer(md.getStringArray("tokenizer.ggml.tokens").length); } }
