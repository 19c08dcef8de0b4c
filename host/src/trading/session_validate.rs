//! Pre-trade risk: every validator asked about a run of one owner's
//! commands, in order; the first refusal of each command is its answer,
//! and a validator that cannot answer refuses them all (fail closed). A
//! client account with its own config for a validator (`validators` in the
//! accounts file) is asked through an instance of that validator under the
//! account's config (`session_gateway.rs`).

use crate::bindings::types::{OrderCommand, RejectReason, Rejection, Verdict};
use crate::journal::VerdictEntry;
use crate::trading::accounts::CLIENT_BASE;
use crate::trading::audit;

use super::Session;

impl Session {
    /// Ask every validator about `orders` of `strategy`: per order, the first
    /// refusal, if any, and (when journaling) every validator's verdict. A
    /// validator that cannot answer refuses them all (fail closed).
    pub(super) fn validate(
        &mut self,
        strategy: usize,
        orders: &[OrderCommand],
        now: u64,
    ) -> (Vec<Option<Rejection>>, Vec<Vec<VerdictEntry>>) {
        let context = self.router.risk_context(strategy, &self.market, now);
        let mut refusals: Vec<Option<Rejection>> = vec![None; orders.len()];
        let journaling = self.journal.is_on();
        let mut said: Vec<Vec<VerdictEntry>> = if journaling {
            vec![Vec::new(); orders.len()]
        } else {
            Vec::new()
        };
        let after = self.counts.events;
        for (i, validator) in self.slots.validators.iter_mut().enumerate() {
            if !self.roster.validator(i) {
                continue;
            }
            let plugin = validator.plugin().clone();
            let name = plugin.name();
            // A client account with its own config for this validator.
            let own = match self.clients.as_mut() {
                Some(clients) if strategy >= CLIENT_BASE => {
                    clients.own_validator(strategy, &plugin)
                }
                _ => None,
            };
            let shared_config = own.is_none();
            let validator = match own {
                Some(own) => own,
                None => validator,
            };
            let verdicts = validator
                .call(|b, s| b.validate(s, &context, orders))
                .and_then(|verdicts| {
                    if verdicts.len() == orders.len() {
                        Ok(verdicts)
                    } else {
                        Err(validator.contract_fault(format!(
                            "returned {} verdicts for {} orders",
                            verdicts.len(),
                            orders.len()
                        )))
                    }
                });
            match verdicts {
                Ok(mut verdicts) => {
                    validator.bound_texts(&mut verdicts);
                    // A shadow runs the validator's own config: it is
                    // compared on the orders judged under that config.
                    if shared_config {
                        self.control
                            .shadows
                            .validate(name, after, &context, orders, &verdicts);
                    }
                    for (list, verdict) in said.iter_mut().zip(&verdicts) {
                        list.push(audit::verdict_entry(&plugin, verdict));
                    }
                    for (slot, verdict) in refusals.iter_mut().zip(verdicts) {
                        if let Verdict::Reject(rejection) = verdict {
                            let message = rejection.message.as_deref();
                            let reason = rejection.reason;
                            self.router
                                .count_rejections(strategy, name, reason, message, 1);
                            slot.get_or_insert(rejection);
                        }
                    }
                }
                Err(fault) => {
                    let reason = RejectReason::ValidatorFault;
                    let message = fault.to_string();
                    let n = orders.len() as u64;
                    self.router
                        .count_rejections(strategy, name, reason, Some(&message), n);
                    for list in &mut said {
                        list.push(audit::fault_verdict(&plugin, &fault));
                    }
                    for slot in refusals.iter_mut() {
                        slot.get_or_insert(Rejection {
                            reason,
                            message: Some(fault.to_string()),
                        });
                    }
                }
            }
        }
        (refusals, said)
    }
}
