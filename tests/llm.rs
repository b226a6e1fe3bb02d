//! Model providers: the OpenAI-compatible client against a scripted server on
//! port 0, and the embedded SmolLM2 model when its weights are installed.

mod llm {
    pub mod local;
    pub mod openai;
}
