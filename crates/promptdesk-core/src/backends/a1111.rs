//! AUTOMATIC1111 / Forge / reForge: `/sdapi/v1/...`.

use super::http::Http;
use super::{
    Backend, BackendConfig, BackendError, Catalogues, GenerateRequest, Generated, Progress,
    RunControl,
};

/// An A1111-API server.
pub struct A1111 {
    config: BackendConfig,
    #[allow(dead_code)]
    http: Http,
}

impl A1111 {
    pub fn new(config: BackendConfig) -> A1111 {
        let http = Http::new(&config);
        A1111 { config, http }
    }
}

impl Backend for A1111 {
    fn config(&self) -> &BackendConfig {
        &self.config
    }
    fn ping(&self) -> Result<(), BackendError> {
        Err(BackendError::Config {
            backend: self.config.name.clone(),
            reason: "not built yet".into(),
        })
    }
    fn catalogues(&self) -> Result<Catalogues, BackendError> {
        Err(BackendError::Config {
            backend: self.config.name.clone(),
            reason: "not built yet".into(),
        })
    }
    fn generate(
        &self,
        _r: &GenerateRequest<'_>,
        _c: &RunControl,
        _p: &mut dyn FnMut(Progress),
    ) -> Result<Generated, BackendError> {
        Err(BackendError::Config {
            backend: self.config.name.clone(),
            reason: "not built yet".into(),
        })
    }
}
