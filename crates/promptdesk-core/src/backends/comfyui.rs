//! ComfyUI: `/prompt`, the `/ws` progress socket, `/history`, `/view`.

use super::http::Http;
use super::workflow::Workflow;
use super::{
    Backend, BackendConfig, BackendError, Catalogues, GenerateRequest, Generated, Progress,
    RunControl,
};
use std::path::Path;

/// A ComfyUI server with the workflow its jobs run through.
pub struct ComfyUi {
    config: BackendConfig,
    #[allow(dead_code)]
    http: Http,
    #[allow(dead_code)]
    workflow: Workflow,
}

impl ComfyUi {
    /// Reads the backend's workflow (the built-in graph when none is set).
    pub fn new(config: BackendConfig, data_dir: &Path) -> Result<ComfyUi, BackendError> {
        let workflow = match &config.workflow {
            None => Workflow::builtin(),
            Some(name) => {
                Workflow::load(&super::workflow::resolve(data_dir, name)).map_err(|reason| {
                    BackendError::Config {
                        backend: config.name.clone(),
                        reason,
                    }
                })?
            }
        };
        let http = Http::new(&config);
        Ok(ComfyUi {
            config,
            http,
            workflow,
        })
    }
}

impl Backend for ComfyUi {
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
