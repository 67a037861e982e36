/** Llama-3.1-8B's architecture as its Hugging Face config.json states it (the fields the importer
 *  reads); tests spread it and change one field at a time. */
export const LLAMA_31_8B_CONFIG = {
  architectures: ["LlamaForCausalLM"],
  hidden_size: 4096,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  intermediate_size: 14336,
  vocab_size: 128256,
  max_position_embeddings: 131072,
  torch_dtype: "bfloat16",
};
