package dev.continuum.tokenizer;
public final class Llama2cTokenizerReader { public static Tokenizer read(java.nio.file.Path p, int v) { return new ByteLevelTokenizer(v); } }
